using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using TorchMomentum.Sweeps;

namespace TorchMomentum.Benchmarks;

/// <summary>
/// `-- fused`: what one core can do and what the fused sweep kernel does of it, as one line of JSON for
/// scripts/bench_sweep.py. The peak: a loop of independent Vector256 float32 FMAs (two a cycle on this machine's
/// cores: 32 FLOP a cycle). The kernel: <see cref="FusedStep"/> alone on one group of 8 float32 cells of the chapter's
/// net (20 hidden units, batch 32), and the FLOPs a cell-step counts (an FMA 2, every other arithmetic operation 1).
/// The two run in alternating blocks of about 0.1 s, <see cref="Rounds"/> pairs, so that a shared machine's slow
/// moments fall on both alike: the fraction of the peak is the median of the pairs' ratios. Where the CPU has AVX-512,
/// the same measurement runs again in a child process with the JIT held to AVX2 (<c>DOTNET_EnableAVX512=0</c>: 16
/// vector registers instead of 32, the code an AVX2-only CPU gets), and both lines are printed, each naming its path.
/// </summary>
public static class FusedKernelRate
{
    private const int Hidden = 20, Batch = 32, Rounds = 21;

    /// <summary>The environment variable that holds .NET 10's JIT to AVX2 (<c>DOTNET_EnableAVX512F</c> no longer does).</summary>
    public const string Avx2Only = "DOTNET_EnableAVX512";

    /// <summary>
    /// Prints {"path", "peak_gflops", "kernel_cell_steps_per_second", "flops_per_cell_step", "gflops",
    /// "fma_flops_per_cell_step", "fraction_of_peak", "fraction_min", "fraction_max", "families": each other family's
    /// cell-steps per second and its ratio to heavy ball's, median of 7 pairs} for this process's path, then the
    /// AVX2 path's line where this one is AVX-512's: the fraction is of the FMA loop's rate taken by the kernel's own FMAs
    /// (its adds and multiplies may run beside them on other pipes, so its total FLOP rate is no fraction of an FMA-only peak).
    /// </summary>
    public static int Run()
    {
        Console.WriteLine(Measure());
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return 0;
        var start = new ProcessStartInfo(Environment.ProcessPath!, "fused") { RedirectStandardOutput = true };
        start.Environment[Avx2Only] = "0";
        using var child = Process.Start(start)!;
        Console.Write(child.StandardOutput.ReadToEnd());
        child.WaitForExit();
        return child.ExitCode;
    }

    private static string Measure()
    {
        // Floating-point arithmetic only (an FMA 2, an add, subtract or multiply 1; compares, masks and maxes not counted).
        // Forward per sample and unit: 2 FMAs (4); per sample: e, e^2 (an FMA), r, g0 (5). Backward per sample and unit
        // (z kept from the forward): an add and 2 FMAs (5). The step: per parameter 2 products, a sum and a difference
        // (4), and the gradients of w1 and b1 (2 products a unit).
        int parameters = Model.Net.ParameterCount(Hidden);
        double flops = Batch * (Hidden * 9.0 + 5) + parameters * 4 + 2 * Hidden;
        // The FMAs alone: 2 a sample and unit forward, 2 backward, 1 a sample for e^2.
        double fmaFlops = 2.0 * Batch * (Hidden * 4 + 1);
        var kernel = new Kernel();
        PeakGflops(2_000_000);
        kernel.CellStepsPerSecond(2_000); // both compiled and warm before the first pair
        var pairs = Enumerable.Range(0, Rounds).Select(round =>
        {
            // Alternate which goes first, so that neither always follows the other.
            double peak, rate;
            if (round % 2 == 0) { peak = PeakGflops(20_000_000); rate = kernel.CellStepsPerSecond(60_000); }
            else { rate = kernel.CellStepsPerSecond(60_000); peak = PeakGflops(20_000_000); }
            return (peak, rate, fraction: rate * fmaFlops / (peak * 1e9));
        }).OrderBy(p => p.fraction).ToArray();
        var median = pairs[Rounds / 2];
        // Momentum's family (issue 40): each family's kernel against heavy ball's, in pairs of blocks, the ratio their median.
        // (The EMA family steps as heavy ball in the kernel: what it adds, its average and the average's loss, is its chunk's.)
        var families = Enum.GetValues<FusedFamily>().Where(f => f is not (FusedFamily.HeavyBall or FusedFamily.Ema)).ToDictionary(f => f.ToString().ToLowerInvariant(), f =>
        {
            var other = new Kernel(f);
            other.CellStepsPerSecond(2_000);
            var ratios = Enumerable.Range(0, 7).Select(round =>
            {
                double theirs, heavyBall;
                if (round % 2 == 0) { theirs = other.CellStepsPerSecond(60_000); heavyBall = kernel.CellStepsPerSecond(60_000); }
                else { heavyBall = kernel.CellStepsPerSecond(60_000); theirs = other.CellStepsPerSecond(60_000); }
                return (rate: theirs, ratio: theirs / heavyBall);
            }).OrderBy(r => r.ratio).ToArray();
            return new { cell_steps_per_second = ratios[3].rate, over_heavy_ball = ratios[3].ratio, over_heavy_ball_min = ratios[0].ratio, over_heavy_ball_max = ratios[^1].ratio };
        });
        return JsonSerializer.Serialize(new
        {
            path = FusedStep.Path,
            peak_gflops = median.peak,
            kernel_cell_steps_per_second = median.rate,
            flops_per_cell_step = flops,
            gflops = median.rate * flops / 1e9,
            fma_flops_per_cell_step = fmaFlops,
            fraction_of_peak = median.fraction,
            fraction_min = pairs[0].fraction,
            fraction_max = pairs[^1].fraction,
            families,
        });
    }

    /// <summary>GFLOP/s of <see cref="FmaChains"/>, timed around it.</summary>
    private static double PeakGflops(int rounds)
    {
        var clock = Stopwatch.StartNew();
        float keep = FmaChains(rounds);
        double seconds = clock.Elapsed.TotalSeconds;
        if (float.IsNaN(keep)) Console.Error.WriteLine("(the peak loop's sum is NaN)");
        return rounds * 12.0 * 8 * 2 / seconds / 1e9;
    }

    /// <summary>
    /// Twelve independent chains of float32 FMAs, <paramref name="rounds"/> times: enough in flight to cover the FMA's
    /// latency, few enough to stay in the 16 vector registers. Its own method, with no call inside: chains live across
    /// a call (the clock's) are kept on the stack, since no vector register survives a call on x64 Linux, and each FMA
    /// then waits for a store and a load (measured: 12 to 49 GFLOP/s, from run to run, instead of the core's peak).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float FmaChains(int rounds)
    {
        var a = Vector256.Create(0.999999f);
        var b = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < rounds; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b);
            c1 = Vector256.FusedMultiplyAdd(c1, a, b);
            c2 = Vector256.FusedMultiplyAdd(c2, a, b);
            c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b);
            c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b);
            c7 = Vector256.FusedMultiplyAdd(c7, a, b);
            c8 = Vector256.FusedMultiplyAdd(c8, a, b);
            c9 = Vector256.FusedMultiplyAdd(c9, a, b);
            c10 = Vector256.FusedMultiplyAdd(c10, a, b);
            c11 = Vector256.FusedMultiplyAdd(c11, a, b);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).GetElement(0);
    }

    /// <summary>The kernel alone: one group of the chapter's net stepping on one batch, over and over, laid out as a sweep's chunk lays it.</summary>
    private sealed class Kernel
    {
        private readonly int lanes = FusedStep.Lanes<float>();
        private readonly ArraySegment<float> weights, velocities, scratch;
        private readonly float[] lr, momentum, knob, frozen, x, y, loss;
        private readonly FusedFamily family;

        public Kernel(FusedFamily family = FusedFamily.HeavyBall)
        {
            this.family = family;
            var random = new Random(1);
            weights = FusedStep.CacheAligned<float>(Model.Net.ParameterCount(Hidden) * lanes);
            for (int i = 0; i < weights.Count; i++) weights[i] = (float)(random.NextDouble() - 0.5);
            velocities = FusedStep.CacheAligned<float>(weights.Count * FusedUpdates.States(family));
            lr = Enumerable.Repeat(1e-6f, lanes).ToArray();
            momentum = Enumerable.Repeat(0.5f, lanes).ToArray();
            // The numbers the family derives from lr 1e-6, momentum 0.5 and its knobs (train's defaults), a block of lanes each.
            var values = new double[FusedUpdates.Knobs(family)];
            FusedUpdates.Derive(family, 1e-6, 0.5, family switch
            {
                FusedFamily.Qhm => [0.7], FusedFamily.Lion => [0.99], FusedFamily.AccSgd => [1000, 10, 0.7], FusedFamily.AggMo => [0, 0.9, 0.99],
                FusedFamily.ScheduleFree => [0, 0, 2], _ => [],
            }, values);
            knob = [.. values.SelectMany(v => Enumerable.Repeat((float)v, lanes))];
            frozen = new float[lanes];
            x = Enumerable.Range(0, Batch).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            y = x.Select(v => v * v).ToArray();
            scratch = FusedStep.CacheAligned<float>((2 + Hidden) * Batch * lanes);
            loss = new float[lanes];
        }

        /// <summary>Cell-steps per second over <paramref name="steps"/> steps.</summary>
        public double CellStepsPerSecond(int steps)
        {
            var clock = Stopwatch.StartNew();
            if (family == FusedFamily.HeavyBall)
                for (int s = 0; s < steps; s++) FusedStep.Step<float>(weights, velocities, lr, momentum, frozen, x, y, Hidden, scratch, loss);
            else
                for (int s = 0; s < steps; s++) FusedStep.Step<float>(family, weights, velocities, lr, momentum, knob, frozen, x, y, Hidden, scratch, loss);
            return (double)steps * lanes / clock.Elapsed.TotalSeconds;
        }
    }
}
