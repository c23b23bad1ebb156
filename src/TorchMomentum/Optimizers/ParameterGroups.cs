using TorchSharp.Modules;

namespace TorchMomentum.Optimizers;

/// <summary>The checks every optimizer of this library makes on a parameter group it is given.</summary>
internal static class ParameterGroups
{
    /// <summary>
    /// A parameter given twice would be stepped twice per step, silently. PyTorch refuses one in two groups; one
    /// listed twice in the same group is refused too (PyTorch only warns), because it is the same mistake. Two
    /// handles to the same tensor count as the same parameter.
    /// </summary>
    /// <param name="existing">The optimizer's groups so far.</param>
    /// <param name="parameters">The new group's parameters.</param>
    /// <exception cref="ArgumentException">A parameter is repeated, in the group or across groups.</exception>
    public static void RefuseRepeated(IEnumerable<ParamGroup> existing, IReadOnlyList<Parameter> parameters)
    {
        var added = new HashSet<IntPtr>();
        foreach (var parameter in parameters)
            if (!added.Add(FlatBucket.NativeTensorIdentity(parameter)))
                throw new ArgumentException(
                    "A parameter appears more than once in one parameter group; it would be stepped more than once per step. " +
                    "List each parameter once (tied weights: once for all the modules that share them).", "param_group");
        if (existing.SelectMany(g => g.Parameters).Any(p => added.Contains(FlatBucket.NativeTensorIdentity(p))))
            throw new ArgumentException(
                "Some parameters appear in more than one parameter group; each parameter must be in exactly one group.", "param_group");
    }

    /// <summary>
    /// Throws the library's one-line refusal, naming the parameter, its range and the value given, when
    /// <paramref name="value"/> lies outside <paramref name="range"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The value is out of range (or not a number).</exception>
    public static void Check(string name, Validation.Interval range, double value)
    {
        if (Validation.Refusal.Check(name, range, value) is { } refused) throw new ArgumentException(refused.ForApi, name);
    }

    /// <summary>The learning rate every family member and the race's own optimizers take: above 0 (at 0 nothing trains, and AccSGD divides by it).</summary>
    /// <exception cref="ArgumentException">lr is 0 or below, named.</exception>
    public static double PositiveLearningRate(double lr)
    {
        Check("lr", new Validation.Interval(0, MinOpen: true), lr);
        return lr;
    }
}
