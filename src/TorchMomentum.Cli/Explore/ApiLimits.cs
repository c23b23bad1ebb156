using TorchMomentum.Sweeps;
using TorchMomentum.Theory;
using TorchMomentum.Training;

namespace TorchMomentum.Cli.Explore;

/// <summary>
/// Every query parameter of the explore API with its default and range: the one place each limit is written.
/// The endpoints read their parameters through these, and <c>GET /api/limits</c> (<see cref="LimitsApi"/>)
/// sends them to the page, which takes its inputs' bounds from there.
/// </summary>
public static class ApiLimits
{
    /// <summary>The steepness s of the bowl x^2 + s*y^2, of both <c>/api/bowl</c> and <c>/api/ratemap</c>.</summary>
    public static readonly ApiParameter Steepness = new("s", QuadraticBowl.ChapterSteepness, new(1, 100));

    /// <summary>The parameters of <c>GET /api/bowl</c>.</summary>
    public static class Bowl
    {
        /// <summary>Learning rate.</summary>
        public static readonly ApiParameter Lr = new("lr", 0.05, new(0, 1));

        /// <summary>Momentum; 0 is plain gradient descent.</summary>
        public static readonly ApiParameter Momentum = new("momentum", 0.6, new(0, 0.999));

        /// <summary>The start's x.</summary>
        public static readonly ApiParameter X = new("x", 10, new(-20, 20));

        /// <summary>The start's y.</summary>
        public static readonly ApiParameter Y = new("y", 1, new(-20, 20));

        /// <summary>Iterations of the path: each is a step of the optimizer, so they bound a request's work.</summary>
        public static readonly ApiParameter Iterations = new("iterations", 15, new(1, 1000), Whole: true);

        /// <summary>All of them.</summary>
        public static readonly IReadOnlyList<ApiParameter> All = [Lr, Momentum, X, Y, Iterations, Steepness];
    }

    /// <summary>The parameters of <c>GET /api/ratemap</c>.</summary>
    public static class RateMap
    {
        /// <summary>All of them.</summary>
        public static readonly IReadOnlyList<ApiParameter> All = [Steepness];
    }

    /// <summary>
    /// The parameters of <c>GET /api/noise</c>: noisy runs on f = x^2/2 (h = 1), where every lr allowed settles
    /// (lr h &lt; 2 (1 + momentum)). The defaults are the noise command's, with fewer runs: a band of 200 is as smooth to
    /// the eye, and a request stays within about 0.1 s of a core.
    /// </summary>
    public static class Noise
    {
        /// <summary>Learning rate; 0 would never leave the start.</summary>
        public static readonly ApiParameter Lr = new("lr", 0.05, new(0, 1, MinOpen: true));

        /// <summary>Momentum; plain gradient descent at the same lr is always run beside it.</summary>
        public static readonly ApiParameter Momentum = new("momentum", 0.9, new(0, 0.999));

        /// <summary>Standard deviation of each gradient's Gaussian noise.</summary>
        public static readonly ApiParameter Sigma = new("sigma", 1, new(0, 10));

        /// <summary>Noisy runs of each method: with the iterations, they bound a request's work.</summary>
        public static readonly ApiParameter Runs = new("runs", 200, new(1, 1000), Whole: true);

        /// <summary>Steps of each run.</summary>
        public static readonly ApiParameter Iterations = new("iterations", 300, new(1, 1000), Whole: true);

        /// <summary>The seed of the noise: the same seed, the same runs.</summary>
        public static readonly ApiParameter Seed = new("seed", 1, new(0, int.MaxValue), Whole: true);

        /// <summary>All of them.</summary>
        public static readonly IReadOnlyList<ApiParameter> All = [Lr, Momentum, Sigma, Runs, Iterations, Seed];
    }

    /// <summary>The parameters of <c>GET /api/velocity</c>, the weights of past gradients (section 5.3).</summary>
    public static class Velocity
    {
        /// <summary>Learning rate.</summary>
        public static readonly ApiParameter Lr = new("lr", 0.1, new(0, 1, MinOpen: true));

        /// <summary>The momentum asked for, drawn beside a few fixed ones.</summary>
        public static readonly ApiParameter Momentum = new("momentum", 0.9, new(0, 0.999));

        /// <summary>How many past gradients: k = 0 .. steps - 1.</summary>
        public static readonly ApiParameter Steps = new("steps", 50, new(1, 500), Whole: true);

        /// <summary>All of them.</summary>
        public static readonly IReadOnlyList<ApiParameter> All = [Lr, Momentum, Steps];
    }

    /// <summary>The parameters of <c>GET /api/train</c>; the defaults are the chapter's (<see cref="ExperimentSettings"/>).</summary>
    public static class Train
    {
        private static readonly ExperimentSettings Chapter = new();

        /// <summary>Learning rate of the three optimizers.</summary>
        public static readonly ApiParameter Lr = new("lr", Chapter.LearningRate, new(0, 1));

        /// <summary>Momentum of the two momentum optimizers.</summary>
        public static readonly ApiParameter Momentum = new("momentum", Chapter.Momentum, new(0, 1, MaxOpen: true));

        /// <summary>Data points: with epochs and the batch size, they bound a training's work.</summary>
        public static readonly ApiParameter Samples = new("samples", Chapter.Samples, new(1, 10_000), Whole: true);

        /// <summary>Samples per mini-batch, at most the samples there are.</summary>
        public static readonly ApiParameter BatchSize = new("batch-size", Chapter.BatchSize, new(1, 10_000), Whole: true, AtMost: "samples");

        /// <summary>Passes over the data.</summary>
        public static readonly ApiParameter Epochs = new("epochs", Chapter.Epochs, new(1, 100), Whole: true);

        /// <summary>The seed of data, weights and batch order.</summary>
        public static readonly ApiParameter Seed = new("seed", Chapter.Seed, new(0, int.MaxValue), Whole: true);

        /// <summary>Width of the net's hidden layer.</summary>
        public static readonly ApiParameter Hidden = new("hidden", Chapter.Hidden, new(1, 256), Whole: true);

        /// <summary>All of them.</summary>
        public static readonly IReadOnlyList<ApiParameter> All = [Lr, Momentum, Samples, BatchSize, Epochs, Seed, Hidden];
    }

    /// <summary>
    /// The parameters of <c>GET /api/sweep</c>: the grid of <c>torchmomentum sweep</c> with the chapter's samples,
    /// batch size and hidden width, small enough that a request is a few seconds of one core. The defaults are the
    /// page's: 33 x 25 cells with the chapter's point (lr 0.01, momentum 0.8) among them (lr 1e-3 to 10 has 8 per
    /// decade, momentum 0 to 0.96 steps of 0.04), reaching past lr 1 where the net diverges.
    /// </summary>
    public static class Sweep
    {
        private static readonly SweepGrid Command = new(); // the command line's defaults

        /// <summary>
        /// Most cells (learning rates x momenta x seeds) of one request; with <see cref="Epochs"/> it bounds the work:
        /// at most 1,024 x 50 x 32 cell-steps, measured 2.2 s on one core of the project's machine.
        /// </summary>
        public const int MaxCells = 1024;

        /// <summary>
        /// Smallest learning rate. The range reaches far past where plain SGD diverges (about 1) so that plain SGD at a
        /// cell's effective learning rate lr/(1 - momentum) is a request too, for most cells the page shows. It stops
        /// at 1e-6 because lr-max / lr-min must be a finite number: 100 / 5e-324 is not, and its log-spaced learning
        /// rates in between would be infinite.
        /// </summary>
        public static readonly ApiParameter LrMin = new("lr-min", Command.LrMin, new(1e-6, 100), AtMost: "lr-max");

        /// <summary>Largest learning rate.</summary>
        public static readonly ApiParameter LrMax = new("lr-max", 10, new(1e-6, 100));

        /// <summary>Learning rates, log-spaced from lr-min to lr-max.</summary>
        public static readonly ApiParameter LrCount = new("lr-count", 33, new(1, 64), Whole: true);

        /// <summary>Smallest momentum; 0 is plain SGD.</summary>
        public static readonly ApiParameter MomentumMin = new("momentum-min", Command.MomentumMin, new(0, 0.99), AtMost: "momentum-max");

        /// <summary>Largest momentum.</summary>
        public static readonly ApiParameter MomentumMax = new("momentum-max", 0.96, new(0, 0.99));

        /// <summary>Momenta, evenly spaced from momentum-min to momentum-max; 1 takes momentum-min alone.</summary>
        public static readonly ApiParameter MomentumCount = new("momentum-count", 25, new(1, 64), Whole: true);

        /// <summary>The seeds, comma-separated, each fixing data, initial weights and batch order as <c>train --seed</c> does.</summary>
        public static readonly ApiParameter Seeds = new("seeds", 1, new(0, int.MaxValue), Whole: true, MaxValues: 8);

        /// <summary>Passes over the data, each of the chapter's 32 steps.</summary>
        public static readonly ApiParameter Epochs = new("epochs", new ExperimentSettings().Epochs, new(1, 50), Whole: true);

        /// <summary>All of them.</summary>
        public static readonly IReadOnlyList<ApiParameter> All = [LrMin, LrMax, LrCount, MomentumMin, MomentumMax, MomentumCount, Seeds, Epochs];
    }

    /// <summary>
    /// The parameters of <c>GET /api/scaling</c>: a small batch-size study (<c>torchmomentum scaling</c>) with its
    /// learning rates (0.01 to 1), momenta (0 to 0.9) and targets, few enough cells and steps for seconds of one core.
    /// </summary>
    public static class Scaling
    {
        /// <summary>The page's batch sizes: 1 to the full 1,000 samples, about half a decade apart.</summary>
        public static readonly long[] DefaultBatchSizes = [1, 3, 10, 32, 100, 1000];

        /// <summary>Most cells (learning rates x momenta x batch sizes x seeds) of one request.</summary>
        public const int MaxCells = 1024;

        /// <summary>
        /// Most samples a request's cells may see, summed over cells (steps x batch size): the work of a step grows with
        /// its batch. The page's default study is 1.8e7; 1e8 is about 10 s of one core of the project's machine.
        /// </summary>
        public const double MaxSampleSteps = 1e8;

        /// <summary>Batch sizes, comma-separated.</summary>
        public static readonly ApiParameter BatchSizes = new("batch-sizes", 32, new(1, new ExperimentSettings().Samples), Whole: true, MaxValues: 8);

        /// <summary>Settings each family chooses among: learning rates, log-spaced over the study's range (momentum's paired with its momenta, <c>scaling --menu equal</c>).</summary>
        public static readonly ApiParameter LrCount = new("lr-count", 8, new(1, 16), Whole: true);

        /// <summary>The seeds that choose each family's setting.</summary>
        public static readonly ApiParameter TuneSeeds = new("tune-seeds", 1, new(0, int.MaxValue), Whole: true, MaxValues: 4);

        /// <summary>The held-out seeds the choices are counted on (none a tuning seed).</summary>
        public static readonly ApiParameter EvalSeeds = new("eval-seeds", 101, new(0, int.MaxValue), Whole: true, MaxValues: 8);

        /// <summary>sigma of the data's label noise.</summary>
        public static readonly ApiParameter LabelNoise = new("label-noise", 0.1, new(0, 1));

        /// <summary>Each cell's budget in steps.</summary>
        public static readonly ApiParameter Steps = new("steps", 500, new(1, 1000), Whole: true);

        /// <summary>All of them.</summary>
        public static readonly IReadOnlyList<ApiParameter> All = [BatchSizes, LrCount, TuneSeeds, EvalSeeds, LabelNoise, Steps];
    }
}
