using TorchMomentum.Devices;
using TorchMomentum.Validation;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>The knobs of the chapter's experiment; the defaults are the chapter's own (section 5.6).</summary>
public sealed record ExperimentSettings
{
    /// <summary>Most passes over the data a run may make.</summary>
    public const int MaxEpochs = 1_000_000;

    /// <summary>Most data points a run may draw.</summary>
    public const int MaxSamples = 10_000_000;

    /// <summary>Widest hidden layer a run may have.</summary>
    public const int MaxHidden = 100_000;

    /// <summary>Seed for <c>torch.manual_seed</c>; it fixes data, initial weights and batch order.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Learning rate of all three optimizers (the chapter's LR).</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Momentum parameter of the two momentum optimizers.</summary>
    public double Momentum { get; init; } = 0.8;

    /// <summary>Samples per mini-batch (the chapter's BATCH_SIZE); the last batch of an epoch may be smaller.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Passes over the data (the chapter's EPOCH).</summary>
    public int Epochs { get; init; } = 12;

    /// <summary>Number of data points.</summary>
    public int Samples { get; init; } = 1000;

    /// <summary>Width of the net's hidden layer.</summary>
    public int Hidden { get; init; } = 20;

    /// <summary>
    /// sigma in the data's y = x^2 + sigma * eps: the chapter's 0.1 (<see cref="Data.ChapterData.NoiseScale"/>). The
    /// same draws are scaled, so 0.1 keeps the chapter's bytes; a checkpoint of an older version, which has none, reads 0.1.
    /// </summary>
    public double LabelNoise { get; init; } = Data.ChapterData.NoiseScale;

    /// <summary>
    /// The contestants raced, comma-separated, in the order of losses.csv's columns (<see cref="ContestantNames"/>).
    /// A string, so that settings compare by value and a checkpoint of an older version, which has none, reads as the default.
    /// </summary>
    public string Contestants { get; init; } = ContestantNames.Default;

    /// <summary>
    /// Settings of the contestants' optimizers, <c>qhm.nu=0.5,lion.lr=3e-4</c> (<see cref="Training.ContestantSettings"/>);
    /// empty for every default. A checkpoint of an older version, which has none, reads empty.
    /// </summary>
    public string ContestantSettings { get; init; } = "";

    /// <summary>The contestants as a list.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> ContestantList => ContestantNames.Parse(Contestants);

    /// <summary>Floating type of data and weights (the chapter uses float32).</summary>
    [JsonPropertyName("dtype")]
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Steps in one epoch: ceil(samples / batch size).</summary>
    [JsonIgnore]
    public int StepsPerEpoch => (Samples + BatchSize - 1) / BatchSize;

    /// <summary>Samples in a step's batch: the batch size, except for an epoch's last, smaller batch.</summary>
    public int BatchSizeOf(int step) =>
        step % StepsPerEpoch == StepsPerEpoch - 1 ? Samples - (StepsPerEpoch - 1) * BatchSize : BatchSize;

    /// <summary>Steps in the whole run, which must fit an int: the step is a row number of losses.csv.</summary>
    [JsonIgnore]
    public long TotalSteps => (long)Epochs * StepsPerEpoch;

    /// <summary>Whether a batch fits in the data: at most <see cref="Samples"/> samples.</summary>
    [JsonIgnore]
    public bool BatchFits => BatchSize >= 1 && BatchSize <= Samples;

    /// <summary>What any run holds before its own work: .NET, libtorch and the first allocations.</summary>
    public const long RuntimeBytes = 256L << 20;

    /// <summary>
    /// The most memory a run with these settings holds at once, estimated from above, so that work the machine
    /// cannot hold is refused before it starts. Measured on the chapter's net (float32): 1e7 samples peaked at
    /// 0.85 GB, hidden 20,000 with batch 1,000 at 0.68 GB; the terms below cover both with room to spare.
    /// </summary>
    [JsonIgnore]
    public long EstimatedPeakBytes
    {
        get
        {
            long element = DType == ScalarType.Float64 ? 8 : 4;
            long data = Samples * 16 * element; // x, y and their draws, the shuffled copy of an epoch, its order
            long nets = ContestantList.Count;
            long activations = 4 * nets * BatchSize * Hidden * element; // per net: hidden output, relu and their gradients
            long weights = nets * 5 * (long)Model.Net.ParameterCount(Hidden) * element; // per net: weights, gradients, up to two optimizer states, flat copies
            return RuntimeBytes + data + activations + weights;
        }
    }

    /// <summary>
    /// The first setting out of its range (the setting, its range, the value given; <see cref="Refusal"/>), or null
    /// when every one is in range. The one check of a run's settings: the options' own ranges repeat it while
    /// parsing, the explore API's /api/train checks it, and a checkpoint's stored settings go through it before a resume.
    /// </summary>
    public Refusal? Problem()
    {
        if (Refusal.Check("seed", 0, long.MaxValue, Seed) is { } seed) return seed;
        if (Refusal.Check("lr", new Interval(0), LearningRate) is { } lr) return lr;
        // A float32 run trains at its lr rounded to float32: one past the largest float32 is infinite there.
        if (DType == ScalarType.Float32 && !float.IsFinite((float)LearningRate))
            return new Refusal($"{Refusal.Name("lr")} must be at most {float.MaxValue.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}, the largest float32, with {Refusal.Name("dtype")} float32 (got '{LearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}')");
        if (Refusal.Check("momentum", new Interval(0, 1, MaxOpen: true), Momentum) is { } momentum) return momentum;
        if (Refusal.Check("epochs", 1, MaxEpochs, Epochs) is { } epochs) return epochs;
        if (Refusal.Check("samples", 1, MaxSamples, Samples) is { } samples) return samples;
        if (Refusal.Check("hidden", 1, MaxHidden, Hidden) is { } hidden) return hidden;
        if (Refusal.Check("label-noise", new Interval(0, Data.ChapterData.MaxLabelNoise), LabelNoise) is { } noise) return noise;
        if (!BatchFits) return new Refusal($"{Refusal.Name("batch-size")} must be in [1, {Refusal.Name("samples")} = {Samples}] (got '{BatchSize}')");
        if (ContestantNames.Problem(Contestants) is { } contestants) return contestants;
        if (DType is (ScalarType.Float32 or ScalarType.Float64) && Training.ContestantSettings.Problem(this) is { } knobs) return knobs;
        if (DType is not (ScalarType.Float32 or ScalarType.Float64)) return new Refusal($"{Refusal.Name("dtype")} must be one of float32|float64 (got '{DType}')");
        if (TotalSteps > int.MaxValue)
            return new Refusal($"{Refusal.Name("epochs")} x steps per epoch must be at most {int.MaxValue} (got {Epochs} x {StepsPerEpoch} = {TotalSteps}); " +
                $"fewer {Refusal.Name("epochs")} or a larger {Refusal.Name("batch-size")}");
        return null;
    }

    /// <summary>
    /// Why a run with these settings cannot fit in <paramref name="availableBytes"/> (it may take
    /// <see cref="HostMemory.UsableFraction"/> of it), or null when it fits.
    /// </summary>
    public Refusal? MemoryProblem(long availableBytes) =>
        HostMemory.Refusal(EstimatedPeakBytes, availableBytes,
            $"a run of {Refusal.Name("samples")} {Samples}, {Refusal.Name("batch-size")} {BatchSize} and {Refusal.Name("hidden")} {Hidden}",
            $"make {Refusal.Name("hidden")}, {Refusal.Name("batch-size")} or {Refusal.Name("samples")} smaller");
}
