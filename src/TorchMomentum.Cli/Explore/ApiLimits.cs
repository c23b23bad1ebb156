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
}
