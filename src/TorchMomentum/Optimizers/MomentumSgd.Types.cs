using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace TorchMomentum.Optimizers;

/// <summary>The hyperparameters, param groups and per-parameter state.</summary>
public sealed partial class MomentumSgd
{
    /// <summary>
    /// The hyperparameters of one parameter group: TorchSharp's SGD's, so that SGD loads them, and the formulation.
    /// </summary>
    public sealed class Options : SGD.Options
    {
#pragma warning disable CS1591 // Documented on MomentumSgd's constructor.
        public MomentumFormulation? formulation;
#pragma warning restore CS1591

        /// <summary>Options with these hyperparameters; a null one is taken from the optimizer's defaults when the group is added.</summary>
        internal static Options Of(double? lr, double? momentum, double? dampening, double? weight_decay, bool? nesterov, bool? maximize,
            MomentumFormulation? formulation) => new()
        {
            LearningRate = lr,
            momentum = momentum,
            dampening = dampening,
            weight_decay = weight_decay,
            nesterov = nesterov,
            maximize = maximize,
            formulation = formulation,
        };

        /// <summary>SGD's fields, then the formulation: this class's own file format.</summary>
        public override void SaveStateDict(BinaryWriter writer)
        {
            base.SaveStateDict(writer);
            writer.Write((int)formulation!.Value);
        }

        /// <summary>Reads what <see cref="SaveStateDict"/> wrote.</summary>
        /// <exception cref="InvalidDataException">These options have a formulation and the saved one is the other.</exception>
        public override void LoadStateDict(BinaryReader reader)
        {
            base.LoadStateDict(reader);
            var loaded = (MomentumFormulation)reader.ReadInt32();
            if (formulation is { } own && own != loaded) throw new InvalidDataException(FormulationMismatch(own, loaded));
            formulation = loaded;
        }

        /// <summary>Copies a group's options: a MomentumSgd's, or TorchSharp's SGD's (which are of the PyTorch form).</summary>
        public override void LoadStateDict(OptimizerOptions source)
        {
            base.LoadStateDict(source);
            formulation = FormulationOf(source);
        }

        /// <summary>SGD's fields only: TorchSharp's SGD file format.</summary>
        internal void SaveSgdStateDict(BinaryWriter writer) => base.SaveStateDict(writer);

        /// <summary>Reads SGD's fields, which are of the PyTorch form.</summary>
        internal void LoadSgdStateDict(BinaryReader reader)
        {
            base.LoadStateDict(reader);
            formulation = MomentumFormulation.PyTorch;
        }
    }

    /// <summary>A parameter group with its own hyperparameters; unset ones come from the optimizer's defaults.</summary>
    public sealed class ParamGroup : ParamGroup<Options>, IMomentum
    {
        /// <summary>An empty group.</summary>
        public ParamGroup() { }

        /// <summary>A group with its own options.</summary>
        public ParamGroup(IEnumerable<Parameter> parameters, Options options) : base(parameters, options) { }

        /// <summary>
        /// A group with named hyperparameters, as TorchSharp's <c>SGD.ParamGroup(parameters, lr:, momentum:,
        /// dampening:, weight_decay:, nesterov:, maximize:)</c> builds one. One left out comes from the
        /// optimizer's defaults, as in a PyTorch param group; SGD's instead takes fixed defaults (lr 1e-3,
        /// momentum 0, ...), whatever its optimizer's, so name every hyperparameter SGD's group relied on.
        /// </summary>
        public ParamGroup(IEnumerable<Parameter> parameters, double? lr = null, double? momentum = null, double? dampening = null,
            double? weight_decay = null, bool? nesterov = null, bool? maximize = null, MomentumFormulation? formulation = null)
            : base(parameters, Options.Of(lr, momentum, dampening, weight_decay, nesterov, maximize, formulation))
        {
        }

        /// <summary>This group's momentum factor.</summary>
        public double Momentum
        {
            get => Options.momentum!.Value;
            set => Options.momentum = value;
        }
    }

    /// <summary>
    /// The chapter form's per-parameter state, the velocity v. The PyTorch form keeps TorchSharp's
    /// <see cref="SGD.State"/> instead, since its buffer is SGD's; both save their buffer the same way.
    /// </summary>
    public sealed class State : OptimizerState, IDisposable
    {
        /// <summary>v; null until the parameter's first step. A view of the bucket's flat state when the parameter is in one.</summary>
        public Tensor? momentum_buffer;

        /// <summary>State for one parameter.</summary>
        public State(Parameter parameter) : base(parameter) { }

        /// <inheritdoc />
        public override void Initialize(OptimizerOptions options) { }

        /// <summary>Frees the buffer.</summary>
        public void Dispose()
        {
            momentum_buffer?.Dispose();
            momentum_buffer = null;
        }

        /// <inheritdoc />
        public override void to(Device device)
        {
            if (momentum_buffer is null || (momentum_buffer.device_type == device.type && momentum_buffer.device_index == device.index)) return;
            var moved = momentum_buffer.to(device).DetachFromDisposeScope();
            momentum_buffer.Dispose();
            momentum_buffer = moved;
        }

        /// <inheritdoc />
        public override void SaveStateDict(BinaryWriter writer) => SaveConditionalStateTensor(writer, momentum_buffer);

        /// <inheritdoc />
        public override void LoadStateDict(BinaryReader reader)
        {
            // Into a new tensor, not the buffer in place: see ReadBuffer.
            Tensor? loaded = null;
            LoadConditionalStateTensor(reader, ref loaded, _parameter.device);
            // In the parameter's dtype, as MomentumSgd's own loads (see Copy).
            Replace(loaded?.to(_parameter.dtype, _parameter.device, disposeAfter: true).DetachFromDisposeScope());
        }

        /// <summary>Takes a copy of another chapter state's velocity (in this parameter's dtype, on its device), so the two optimizers never share a tensor.</summary>
        public override void LoadStateDict(OptimizerState source) => Replace(Copy(((State)source).momentum_buffer, _parameter));

        private void Replace(Tensor? buffer)
        {
            momentum_buffer?.Dispose();
            momentum_buffer = buffer;
        }

        /// <inheritdoc />
        public override bool ApproximatelyEquals(OptimizerState other) =>
            other is State s && (momentum_buffer is null ? s.momentum_buffer is null : s.momentum_buffer is not null && momentum_buffer.allclose(s.momentum_buffer));
    }
}
