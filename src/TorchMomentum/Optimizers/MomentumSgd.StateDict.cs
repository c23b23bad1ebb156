using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace TorchMomentum.Optimizers;

/// <summary>
/// Saving and loading state, to and from TorchSharp's SGD too, so either can continue the other's training
/// exactly. In the PyTorch form each parameter's state is SGD's own <see cref="SGD.State"/> and each group's
/// options extend <see cref="SGD.Options"/>, so <c>state_dict()</c> goes both ways. Unlike TorchSharp 0.107's
/// SGD (a NullReferenceException), this class also takes state without buffers (momentum 0, parameters never
/// stepped). The chapter form's velocity v = lr * b holds only while lr has never changed, so its state keeps
/// its own type, and state of one form is refused by the other rather than converted.
/// Two file formats, each with its own name: the inherited <c>save_state_dict</c> writes this class's (SGD's
/// fields and each group's formulation) through any reference; <see cref="SaveSgdStateDict(BinaryWriter)"/>
/// writes TorchSharp SGD's. A saved stream names its optimizer type first, so <c>load_state_dict</c> here reads
/// either and refuses what does not fit before changing anything (it hides TorchSharp's non-virtual loader,
/// which, through an OptimizerHelper reference, reads this class's format only and refuses SGD's).
/// </summary>
public sealed partial class MomentumSgd
{
    /// <summary>
    /// A parameter's momentum state as PyTorch's <c>torch.optim.SGD</c> keeps it, the buffer b, whatever the
    /// formulation: a copy of the buffer, or the chapter's velocity over its group's lr (v = lr * b, exact while
    /// lr has not changed). Null before the parameter's first step or without momentum. The caller owns it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The chapter form with an lr of 0, or one the dtype holds as 0:
    /// its velocity is then 0 whatever b is, so b cannot be had from it (v / lr would be 0/0, NaN).</exception>
    public Tensor? PyTorchMomentumBuffer(Parameter parameter)
    {
        if (MomentumBuffer(parameter) is not { } buffer) return null;
        var o = (Options)_parameter_groups.First(g => g.Parameters.Any(p => p.Handle == parameter.Handle)).Options;
        if (o.formulation != MomentumFormulation.Chapter) return buffer.detach().clone();
        double lr = o.LearningRate!.Value;
        if (LearningRateVanishes(lr, buffer.dtype))
            throw new InvalidOperationException(
                $"The chapter form's velocity cannot give PyTorch's momentum buffer at lr = {lr}: v = lr * b is 0 whatever b is.");
        return buffer.detach().div(lr);
    }

    /// <summary>
    /// Loads a state taken by <c>state_dict()</c> from a MomentumSgd or, for the PyTorch form, from TorchSharp's
    /// SGD: hyperparameters and momentum buffers, the buffers copied in each parameter's dtype and onto its device
    /// (as PyTorch casts them). A state without buffers (momentum 0, or parameters never stepped) loads too.
    /// Nothing changes unless all of it fits.
    /// </summary>
    /// <exception cref="ArgumentException">The state has other numbers of groups or parameters, is not
    /// SGD's or MomentumSgd's, or a group is of the other formulation.</exception>
    public override void load_state_dict(StateDictionary state_dict)
    {
        var parameters = AllParameters();
        RefuseOtherShape(state_dict.Options.Count, state_dict.State.Count, parameters.Length);
        RefuseOtherFormulations(state_dict.Options.Select(FormulationOf).ToArray(), message => new ArgumentException(message, nameof(state_dict)));
        var buffers = state_dict.State.Select(BufferOf).ToArray();
        for (int i = 0; i < _parameter_groups.Count; i++)
            if (!ReferenceEquals(_parameter_groups[i].Options, state_dict.Options[i])) _parameter_groups[i].Options.LoadStateDict(state_dict.Options[i]);
        for (int i = 0; i < parameters.Length; i++)
            if (!ReferenceEquals(_state[parameters[i].Handle], state_dict.State[i])) SetBuffer(parameters[i], Copy(buffers[i], parameters[i]));
    }

    /// <summary>Saves the state to a file in TorchSharp's SGD format, which SGD loads; see <see cref="SaveSgdStateDict(BinaryWriter)"/>.</summary>
    /// <param name="location">The file to write.</param>
    /// <exception cref="InvalidOperationException">A group uses the chapter form, which SGD's format cannot hold.</exception>
    public void SaveSgdStateDict(string location)
    {
        RefuseChapterFormForSgdFormat(); // before the file is created: a refusal leaves an existing file as it was
        using var stream = File.Create(location);
        using var writer = new BinaryWriter(stream);
        SaveSgdStateDict(writer);
    }

    /// <summary>
    /// Saves the state in TorchSharp's SGD format, for SGD to load: only for the PyTorch form, whose state is SGD's
    /// own. The inherited <c>save_state_dict</c> writes this class's format (SGD's fields and each group's
    /// formulation), whatever the type of the reference it is called through; this is the other format, by name.
    /// </summary>
    /// <param name="writer">Where to write it.</param>
    /// <exception cref="InvalidOperationException">A group uses the chapter form, which SGD's format cannot hold.</exception>
    public void SaveSgdStateDict(BinaryWriter writer)
    {
        RefuseChapterFormForSgdFormat();
        var groups = _parameter_groups.Select(g => (Options)g.Options).ToArray();
        // SGD's OptimizerHelper.save_state_dict: its type name, the counts (7-bit encoded), the options, the states.
        var parameters = AllParameters();
        writer.Write(typeof(SGD).Name);
        writer.Write7BitEncodedInt64(groups.Length);
        writer.Write7BitEncodedInt64(parameters.Length);
        foreach (var options in groups) options.SaveSgdStateDict(writer);
        foreach (var parameter in parameters) _state[parameter.Handle].SaveStateDict(writer);
    }

    private void RefuseChapterFormForSgdFormat()
    {
        if (_parameter_groups.Any(g => ((Options)g.Options).formulation != MomentumFormulation.PyTorch))
            throw new InvalidOperationException("SaveSgdStateDict: a group uses the chapter formulation, whose velocity TorchSharp's SGD format cannot hold; save_state_dict writes MomentumSgd's own format.");
    }

    /// <summary>Loads a state saved to a file by a MomentumSgd or by TorchSharp's SGD; see <see cref="load_state_dict(BinaryReader)"/>.</summary>
    /// <param name="location">The file to read.</param>
    public new void load_state_dict(string location)
    {
        using var stream = File.OpenRead(location);
        using var reader = new BinaryReader(stream);
        load_state_dict(reader);
    }

    /// <summary>
    /// Loads a state saved by a MomentumSgd or, for the PyTorch form, by TorchSharp's SGD: hyperparameters and
    /// momentum buffers. Nothing changes unless all of it reads and fits.
    /// </summary>
    /// <param name="reader">Where to read it.</param>
    /// <exception cref="InvalidDataException">The state is of another optimizer, or a group is of the other formulation.</exception>
    /// <exception cref="ArgumentException">The state has other numbers of groups or parameters.</exception>
    public new void load_state_dict(BinaryReader reader)
    {
        string type = reader.ReadString();
        bool fromSgd = type == typeof(SGD).Name;
        if (!fromSgd && type != GetType().Name)
            throw new InvalidDataException($"Mismatched optimizer type: expected '{GetType().Name}' or '{typeof(SGD).Name}', but found '{type}' in the loaded stream.");
        var parameters = AllParameters();
        long groupCount = reader.Read7BitEncodedInt64(), stateCount = reader.Read7BitEncodedInt64();
        RefuseOtherShape(groupCount, stateCount, parameters.Length);
        var options = _parameter_groups.Select(_ => ReadOptions(reader, fromSgd)).ToArray();
        RefuseOtherFormulations(options.Select(o => o.formulation!.Value).ToArray(), message => new InvalidDataException(message));
        var buffers = new List<Tensor?>();
        try
        {
            foreach (var parameter in parameters) buffers.Add(ReadBuffer(reader, parameter));
        }
        catch
        {
            foreach (var buffer in buffers) buffer?.Dispose();
            throw;
        }
        for (int i = 0; i < options.Length; i++) _parameter_groups[i].Options.LoadStateDict(options[i]);
        for (int i = 0; i < parameters.Length; i++) SetBuffer(parameters[i], buffers[i]);
    }

    /// <summary>Every parameter, in the order of the states in a state dict and a saved file.</summary>
    private Parameter[] AllParameters() => _parameter_groups.SelectMany(g => g.Parameters).ToArray();

    /// <summary>TorchSharp's checks, with its messages.</summary>
    private void RefuseOtherShape(long groupCount, long stateCount, int parameterCount)
    {
        if (groupCount != _parameter_groups.Count) throw new ArgumentException("Invalid optimizer state -- different number of parameter groups.");
        if (stateCount != parameterCount) throw new ArgumentException("Invalid optimizer state -- different number of states.");
    }

    /// <summary>Refuses a state whose group <c>i</c> is of another formulation than this optimizer's group <c>i</c>.</summary>
    private void RefuseOtherFormulations(IReadOnlyList<MomentumFormulation> loaded, Func<string, Exception> error)
    {
        for (int i = 0; i < loaded.Count; i++)
        {
            var own = ((Options)_parameter_groups[i].Options).formulation!.Value;
            if (own != loaded[i]) throw error($"Parameter group {i}: {FormulationMismatch(own, loaded[i])}");
        }
    }

    /// <summary>Why state of one formulation cannot continue in the other.</summary>
    private static string FormulationMismatch(MomentumFormulation own, MomentumFormulation loaded) =>
        $"the state is of the {loaded} formulation (all of TorchSharp's SGD state is of the PyTorch one) but this optimizer " +
        $"uses the {own} formulation. PyTorch's momentum buffer b and the chapter's velocity v are different quantities " +
        $"(v = lr * b only while lr has never changed), so neither can continue the other: build the MomentumSgd with " +
        $"formulation: MomentumFormulation.{loaded} to continue this state.";

    /// <summary>The formulation of a group's options: TorchSharp's SGD has only PyTorch's.</summary>
    private static MomentumFormulation FormulationOf(OptimizerOptions options) => options switch
    {
        Options own => own.formulation ?? MomentumFormulation.PyTorch,
        SGD.Options _ => MomentumFormulation.PyTorch,
        _ => throw new ArgumentException($"{options.GetType().FullName} are neither TorchSharp's SGD.Options nor MomentumSgd.Options."),
    };

    private static Options ReadOptions(BinaryReader reader, bool sgdFormat)
    {
        var options = new Options();
        if (sgdFormat) options.LoadSgdStateDict(reader);
        else options.LoadStateDict(reader);
        return options;
    }

    /// <summary>
    /// A buffer as <c>OptimizerState.SaveConditionalStateTensor</c> writes it: a flag, then the tensor. Read into
    /// a new tensor: TorchSharp's reader writes into the existing buffer's bytes, unconverted if its dtype differs.
    /// Cast to the parameter's dtype and device, as PyTorch's <c>Optimizer.load_state_dict</c> casts state.
    /// </summary>
    private static Tensor? ReadBuffer(BinaryReader reader, Parameter parameter) =>
        reader.ReadBoolean() ? TorchSharp.TensorExtensionMethods.Load(reader).to(parameter.dtype, parameter.device, disposeAfter: true).DetachFromDisposeScope() : null;

    /// <summary>
    /// A copy of a buffer with the parameter's dtype and on its device, so that two optimizers never share a tensor.
    /// Why the dtype too: PyTorch's <c>Optimizer.load_state_dict</c> casts state to its parameter's dtype, and a
    /// float32 buffer kept under float64 parameters would round every later step to float32.
    /// </summary>
    private static Tensor? Copy(Tensor? buffer, Parameter parameter) =>
        buffer?.to(parameter.dtype, parameter.device, copy: true).DetachFromDisposeScope();

}
