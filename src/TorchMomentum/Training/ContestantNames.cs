namespace TorchMomentum.Training;

/// <summary>
/// The contestants' names, for code that means one of them; what each is (its optimizer, the net it starts from,
/// what its checkpoint keeps, its colour) is its entry in <see cref="ContestantKinds"/>.
/// </summary>
public static class ContestantNames
{
    /// <summary>Plain SGD (the chapter's net_SGD, <c>torch.optim.SGD(lr)</c>).</summary>
    public const string Sgd = "sgd";
    /// <summary>Built-in SGD with momentum (net_Momentum).</summary>
    public const string Momentum = "momentum";
    /// <summary><see cref="Optimizers.MomentumSgd"/> in the chapter's form (section 5.5.1).</summary>
    public const string Handwritten = "handwritten";
    /// <summary>Built-in SGD with Nesterov momentum.</summary>
    public const string Nesterov = "nesterov";
    /// <summary><c>torch.optim.RMSprop(lr, alpha=0.9)</c>, as the chapter's commented-out net_RMSprop.</summary>
    public const string RmsProp = "rmsprop";
    /// <summary><c>torch.optim.Adam(lr, betas=(0.9, 0.99))</c>, as the chapter's commented-out net_Adam.</summary>
    public const string Adam = "adam";
    /// <summary>Plain SGD at lr/(1 - momentum): the step size momentum settles at, without momentum.</summary>
    public const string SgdEffective = "sgd-effective";
    /// <summary><see cref="Optimizers.Qhm"/>, quasi-hyperbolic momentum.</summary>
    public const string Qhm = "qhm";
    /// <summary><see cref="Optimizers.AggMo"/>, aggregated momentum.</summary>
    public const string AggMo = "aggmo";
    /// <summary><see cref="Optimizers.AccSgd"/>, accelerated SGD.</summary>
    public const string AccSgd = "accsgd";
    /// <summary><see cref="Optimizers.ScheduleFreeSgd"/>, judged at its average x.</summary>
    public const string ScheduleFree = "schedule-free";
    /// <summary><see cref="Optimizers.Lion"/>, sign momentum.</summary>
    public const string Lion = "lion";
    /// <summary>Heavy ball with an exponential average of its weights (<see cref="Optimizers.AveragedModel"/>), judged at the average.</summary>
    public const string Ema = "ema";
    /// <summary>TorchSharp's AdamW at PyTorch's defaults but lr 0.01.</summary>
    public const string AdamW = "adamw";

    /// <summary>Every name, in the order --help lists them.</summary>
    public static readonly IReadOnlyList<string> All = [.. ContestantKinds.All.Select(k => k.Name)];

    /// <summary>The default race: the chapter's two nets and the hand-written step.</summary>
    public const string Default = "sgd,momentum,handwritten";

    /// <summary>The names of a comma-separated list.</summary>
    public static IReadOnlyList<string> Parse(string list) => list.Split(',');

    /// <summary>Why <paramref name="list"/> is not a list of distinct contestant names, or null.</summary>
    public static Validation.Refusal? Problem(string? list)
    {
        var names = Parse(list ?? "");
        return names.All(All.Contains) && names.Distinct().Count() == names.Count ? null
            : new Validation.Refusal($"{Validation.Refusal.Name("contestants")} must be distinct names from {string.Join("|", All)}, comma-separated (got '{Validation.Refusal.Given(list ?? "")}')");
    }
}
