using System.Text.Json;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace TorchMomentum.Training;

/// <summary>The knobs of the chapter's experiment; the defaults are the chapter's own (section 5.6).</summary>
public sealed record ExperimentSettings
{
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

    /// <summary>Floating type of data and weights (the chapter uses float32).</summary>
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
            const long runtime = 256L << 20; // .NET, libtorch and the first allocations
            long data = Samples * 16 * element; // x, y and their draws, the shuffled copy of an epoch, its order
            long activations = 12L * BatchSize * Hidden * element; // 3 nets: hidden output, relu and their gradients
            long weights = 3 * 4 * (3L * Hidden + 1) * element; // 3 nets: weights, gradients, buffers, flat copies
            return runtime + data + activations + weights;
        }
    }

    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    /// <summary>The settings as JSON, as checkpoints store them.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Settings from <see cref="ToJson"/>.</summary>
    /// <exception cref="InvalidDataException">The text is not such settings.</exception>
    public static ExperimentSettings FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ExperimentSettings>(json, Json) ?? throw new InvalidDataException("no settings");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException("unreadable settings: " + e.Message, e);
        }
    }
}
