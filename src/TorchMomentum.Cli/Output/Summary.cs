using TorchMomentum.Model;
using TorchMomentum.Files;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchMomentum.Training;

namespace TorchMomentum.Cli.Output;

/// <summary>summary.json: what was run, where, with which versions, and what came out.</summary>
public sealed record Summary
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "summary.json";

    /// <summary>The run's settings.</summary>
    public required SummarySettings Settings { get; init; }
    /// <summary>The device the run used, e.g. "cpu" or "cuda".</summary>
    public required string Device { get; init; }
    /// <summary>Intra-op threads libtorch used.</summary>
    public required int Threads { get; init; }
    /// <summary>TorchSharp's assembly version.</summary>
    [JsonPropertyName("torchsharp_version")]
    public required string TorchSharpVersion { get; init; }
    /// <summary>The native libtorch version TorchSharp was built against.</summary>
    [JsonPropertyName("libtorch_version")]
    public required string LibTorchVersion { get; init; }
    /// <summary>Per optimizer: the loss of the last step.</summary>
    public required IReadOnlyDictionary<string, double> FinalStepLoss { get; init; }
    /// <summary>Per optimizer: the mean loss of the last epoch.</summary>
    public required IReadOnlyDictionary<string, double> FinalEpochMeanLoss { get; init; }
    /// <summary>Per optimizer: the loss over all the data at the end, at the weights it is judged at (schedule-free's x, ema's average).</summary>
    public required IReadOnlyDictionary<string, double> FinalFullDataLoss { get; init; }
    /// <summary>Whether training stopped at a NaN or infinite loss.</summary>
    public required bool Diverged { get; init; }
    /// <summary>Where it did, when it did.</summary>
    public Divergence? Divergence { get; init; }
    /// <summary>Largest |hand-written - built-in momentum| parameter difference after training; null unless the run races both.</summary>
    public required double? MaxParameterDifference { get; init; }
    /// <summary>Number of steps recorded (one step trains every optimizer's net on one batch).</summary>
    public required int Steps { get; init; }
    /// <summary>Wall time of the training loop, seconds.</summary>
    public required double TrainingSeconds { get; init; }
    /// <summary>Wall time of the whole command up to the summary, seconds, from the process's start.</summary>
    public required double WallSeconds { get; init; }
    /// <summary>That wall time phase by phase, seconds.</summary>
    public required IReadOnlyDictionary<string, double> Timings { get; init; }
    /// <summary>Steps per second of the training loop.</summary>
    public required double StepsPerSecond { get; init; }

    /// <summary>Builds the summary of a train run.</summary>
    public static Summary From(ExperimentResult result, string device, int threads, Timings wall)
    {
        IReadOnlyDictionary<string, double> PerName(double[]? values) =>
            values is null ? new Dictionary<string, double>() : result.Names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => values[p.i]);
        return new Summary
        {
            Settings = SummarySettings.From(result.Settings),
            Device = device,
            Threads = threads,
            TorchSharpVersion = BuildInfo.TorchSharpVersion,
            LibTorchVersion = TorchSharp.torch.__version__,
            Diverged = result.Divergence is not null,
            Divergence = result.Divergence,
            FinalStepLoss = PerName(result.Losses.LastStepLosses),
            FinalEpochMeanLoss = PerName(result.Losses.EpochMeanLosses.LastOrDefault()),
            FinalFullDataLoss = PerName(result.FullDataLosses.Length == result.Names.Count ? result.FullDataLosses : null),
            MaxParameterDifference = result.MaxParameterDifference,
            Steps = result.Losses.Steps,
            TrainingSeconds = result.TrainingTime.TotalSeconds,
            WallSeconds = wall.Total,
            Timings = wall.Phases,
            StepsPerSecond = result.StepsPerSecond,
        };
    }

    /// <summary>Writes the summary as indented JSON with snake_case names.</summary>
    public void Write(string path) => AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, this, SummaryJson.Default.Summary));

    /// <summary>Readies the serializer (its first use costs some 15 ms), on a core that has nothing else to do.</summary>
    public static void WarmUp() => JsonSerializer.Serialize(Stream.Null, SummarySettings.From(new ExperimentSettings()), SummaryJson.Default.SummarySettings);
}

/// <summary>
/// summary.json's serializer, generated at compile time: the reflection-based one spent 40-90 ms of every `train`
/// building itself before writing 1 KB.
/// </summary>
// A run that diverged on its first step has no finite loss to report: NaN and infinities are written as names.
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, UseStringEnumConverter = true)]
[JsonSerializable(typeof(Summary))]
[JsonSerializable(typeof(CurvatureSummary))]
internal sealed partial class SummaryJson : JsonSerializerContext
{
}

/// <summary>The settings part of summary.json.</summary>
public sealed record SummarySettings(long Seed, double LearningRate, double Momentum, int BatchSize, int Epochs,
    int Samples, int Hidden, string Dtype, string Contestants, string ContestantSettings, double LabelNoise)
{
    /// <summary>The JSON form of an experiment's settings.</summary>
    public static SummarySettings From(ExperimentSettings s) =>
        new(s.Seed, s.LearningRate, s.Momentum, s.BatchSize, s.Epochs, s.Samples, s.Hidden, s.DType.ToString().ToLowerInvariant(), s.Contestants,
            s.ContestantSettings, s.LabelNoise);
}
