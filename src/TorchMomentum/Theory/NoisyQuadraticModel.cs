namespace TorchMomentum.Theory;

/// <summary>One eigen-direction of the noisy quadratic model.</summary>
/// <param name="Curvature">h: the Hessian's eigenvalue.</param>
/// <param name="GradientVariance">c: the variance of one sample's gradient along the eigenvector (u' Sigma u).</param>
/// <param name="Start">theta_0: where the run starts along the eigenvector, measured from the minimum.</param>
public sealed record QuadraticDirection(double Curvature, double GradientVariance, double Start);

/// <summary>
/// Zhang et al. 2019's noisy quadratic model ("Which Algorithmic Choices Matter at Which Batch Sizes?"): the loss
/// near a minimum as L* + 1/2 sum_i h_i theta_i^2 over the Hessian's eigen-directions, each step's gradient
/// h_i theta_i plus noise of variance sigma_i^2 = (c_i / B)(N - B)/(N - 1) (a batch of B of the N samples, drawn
/// without replacement). Heavy ball in PyTorch's form (v = m v + g; theta -= lr v; section 5.5.1's hand-written
/// step is the same in exact arithmetic) is, per direction,
/// <code>
///   theta_{t+1} = a theta_t - m theta_{t-1} - lr xi_t,   a = 1 + m - lr h,   theta_{-1} = theta_0 (v_0 = 0)
/// </code>
/// and its second moments X_t = (E theta_t^2, E theta_{t-1}^2, E theta_t theta_{t-1}) follow exactly
/// <code>
///   X_{t+1} = M X_t + (lr^2 sigma^2, 0, 0),   M = [[a^2, m^2, -2 a m], [1, 0, 0], [a, 0, -m]]
/// </code>
/// so the expected loss after t steps is L* + 1/2 sum_i h_i E[theta_i(t)^2], with no sampling. Stable while
/// 0 &lt; lr h &lt; 2(1 + m) in every direction (section 5.2); its floor is <see cref="NoisyMomentum"/>'s per direction.
/// </summary>
public static class NoisyQuadraticModel
{
    /// <summary>The expected loss after each of steps 1 to <paramref name="steps"/> (index t - 1), stopping early (shorter) once it passes 1e10.</summary>
    public static double[] ExpectedLoss(IReadOnlyList<QuadraticDirection> directions, double minimum, double lr, double momentum, int batchSize, int samples, int steps)
    {
        int n = directions.Count;
        var (e2, e2Before, cross) = (new double[n], new double[n], new double[n]);
        var noise = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s0 = directions[i].Start;
            (e2[i], e2Before[i], cross[i]) = (s0 * s0, s0 * s0, s0 * s0);
            noise[i] = lr * lr * NoiseVariance(directions[i].GradientVariance, batchSize, samples);
        }
        var losses = new List<double>(steps);
        for (int t = 0; t < steps; t++)
        {
            double loss = minimum;
            for (int i = 0; i < n; i++)
            {
                double h = directions[i].Curvature, a = 1 + momentum - lr * h;
                double next = a * a * e2[i] + momentum * momentum * e2Before[i] - 2 * a * momentum * cross[i] + noise[i];
                double nextCross = a * e2[i] - momentum * cross[i];
                (e2Before[i], e2[i], cross[i]) = (e2[i], next, nextCross);
                loss += 0.5 * h * next;
            }
            if (!(loss <= 1e10)) break;
            losses.Add(loss);
        }
        return [.. losses];
    }

    /// <summary>
    /// The variance of a batch's mean gradient along a direction whose one-sample variance is <paramref name="c"/>:
    /// c/B, times (N - B)/(N - 1) because a batch draws its B samples without replacement (0 for the full batch).
    /// </summary>
    public static double NoiseVariance(double c, int batchSize, int samples) =>
        samples <= 1 ? 0 : c / batchSize * (samples - batchSize) / (samples - 1.0);
}
