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
/// </summary>
public static class FusedKernelRate
{
    private const int Hidden = 20, Batch = 32;

    /// <summary>
    /// Prints {"peak_gflops", "kernel_cell_steps_per_second", "flops_per_cell_step", "gflops", "fma_flops_per_cell_step",
    /// "fraction_of_peak"}: the fraction is of the FMA loop's rate taken by the kernel's own FMAs (its adds and multiplies
    /// may run beside them on other pipes, so its total FLOP rate is no fraction of an FMA-only peak).
    /// </summary>
    public static int Run()
    {
        // The most of seven: a shared machine only ever slows the loop, never lifts it above what the core can do.
        double peak = Enumerable.Range(0, 7).Max(_ => PeakGflops());
        double kernel = Median(7, KernelRate);
        // Floating-point arithmetic only (an FMA 2, an add, subtract or multiply 1; compares, masks and maxes not counted).
        // Forward per sample and unit: 2 FMAs (4); per sample: e, e^2 (an FMA), r, g0 (5). Backward per sample and unit
        // (z kept from the forward): an add and 2 FMAs (5). The step: per parameter 2 products, a sum and a difference
        // (4), and the gradients of w1 and b1 (2 products a unit).
        int parameters = 3 * Hidden + 1;
        double flops = Batch * (Hidden * 9.0 + 5) + parameters * 4 + 2 * Hidden;
        // The FMAs alone: 2 a sample and unit forward, 2 backward, 1 a sample for e^2.
        double fmaFlops = 2.0 * Batch * (Hidden * 4 + 1);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            peak_gflops = peak,
            kernel_cell_steps_per_second = kernel,
            flops_per_cell_step = flops,
            gflops = kernel * flops / 1e9,
            fma_flops_per_cell_step = fmaFlops,
            fraction_of_peak = kernel * fmaFlops / (peak * 1e9),
            vector_path = FusedStep.VectorPathRuns,
        }));
        return 0;
    }

    private static double Median(int repeats, Func<double> measure)
    {
        measure();
        var values = Enumerable.Range(0, repeats).Select(_ => measure()).Order().ToArray();
        return values[repeats / 2];
    }

    /// <summary>GFLOP/s of <see cref="FmaChains"/>, timed around it.</summary>
    private static double PeakGflops()
    {
        const int rounds = 20_000_000;
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

    /// <summary>Cell-steps per second of the kernel alone: one group stepping on one batch, over and over.</summary>
    private static double KernelRate()
    {
        int lanes = FusedStep.Lanes<float>(), parameters = 3 * Hidden + 1, steps = 200_000;
        var random = new Random(1);
        var weights = FusedStep.CacheAligned<float>(parameters * lanes); // as a sweep's chunk lays them out
        for (int i = 0; i < weights.Count; i++) weights[i] = (float)(random.NextDouble() - 0.5);
        var velocities = FusedStep.CacheAligned<float>(weights.Count);
        var lr = Enumerable.Repeat(1e-6f, lanes).ToArray();
        var momentum = Enumerable.Repeat(0.5f, lanes).ToArray();
        var frozen = new float[lanes];
        var x = Enumerable.Range(0, Batch).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var y = x.Select(v => v * v).ToArray();
        var scratch = FusedStep.CacheAligned<float>((2 + Hidden) * Batch * lanes);
        var loss = new float[lanes];
        var clock = Stopwatch.StartNew();
        for (int s = 0; s < steps; s++) FusedStep.Step<float>(weights, velocities, lr, momentum, frozen, x, y, Hidden, scratch, loss);
        return (double)steps * lanes / clock.Elapsed.TotalSeconds;
    }
}
