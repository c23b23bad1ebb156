using System.CommandLine;
using TorchMomentum.Training;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>The options of every command that trains the chapter's net (train, sweep): its size, its data, its dtype and device.</summary>
public sealed class TrainingOptions
{
    /// <summary>The options, with <paramref name="defaults"/>' values as theirs.</summary>
    public TrainingOptions(ExperimentSettings defaults)
    {
        BatchSize = Options.Count("--batch-size", "Samples per mini-batch, at most --samples", defaults.BatchSize, 1);
        Epochs = Options.Count("--epochs", "Passes over the data", defaults.Epochs, 1, ExperimentSettings.MaxEpochs);
        Samples = Options.Count("--samples", "Number of data points", defaults.Samples, 1, ExperimentSettings.MaxSamples);
        Hidden = Options.Count("--hidden", "Width of the hidden layer", defaults.Hidden, 1, ExperimentSettings.MaxHidden);
        LabelNoise = Options.Number("--label-noise", "sigma in the data's y = x^2 + sigma*noise (the chapter's 0.1; the same draws, scaled)", defaults.LabelNoise,
            new(0, Data.ChapterData.MaxLabelNoise));
        DType = Options.OneOf("--dtype", "Floating type of data and weights", "float32",
            new Dictionary<string, ScalarType> { ["float32"] = ScalarType.Float32, ["float64"] = ScalarType.Float64 });
        Device = Options.OneOf("--device", "Where to train", "auto",
            new Dictionary<string, DeviceRequest> { ["cpu"] = DeviceRequest.Cpu, ["cuda"] = DeviceRequest.Cuda, ["auto"] = DeviceRequest.Auto });
    }

    /// <summary>--batch-size.</summary>
    public Option<int> BatchSize { get; }
    /// <summary>--epochs.</summary>
    public Option<int> Epochs { get; }
    /// <summary>--samples.</summary>
    public Option<int> Samples { get; }
    /// <summary>--hidden.</summary>
    public Option<int> Hidden { get; }
    /// <summary>--label-noise.</summary>
    public Option<double> LabelNoise { get; }
    /// <summary>--dtype.</summary>
    public Option<ScalarType> DType { get; }
    /// <summary>--device.</summary>
    public Option<DeviceRequest> Device { get; }

    /// <summary>The options that set the run (all but --device), in the order --help lists them.</summary>
    public Option[] Settings => [BatchSize, Epochs, Samples, Hidden, LabelNoise, DType];

    /// <summary><paramref name="settings"/> with the values given on the command line.</summary>
    public ExperimentSettings Read(ParseResult parse, ExperimentSettings settings) => settings with
    {
        BatchSize = parse.GetValue(BatchSize),
        Epochs = parse.GetValue(Epochs),
        Samples = parse.GetValue(Samples),
        Hidden = parse.GetValue(Hidden),
        LabelNoise = parse.GetValue(LabelNoise),
        DType = parse.GetValue(DType),
    };
}
