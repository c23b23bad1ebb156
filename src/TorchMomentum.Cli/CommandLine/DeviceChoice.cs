using TorchSharp;
using static TorchSharp.torch;

namespace TorchMomentum.Cli.CommandLine;

/// <summary>Which device a run asks for: the CPU, a CUDA GPU, or the GPU when there is one.</summary>
public enum DeviceRequest
{
    /// <summary>CUDA when this build and machine have it, else the CPU.</summary>
    Auto,
    /// <summary>The CPU.</summary>
    Cpu,
    /// <summary>The first CUDA device; an error when there is none.</summary>
    Cuda,
}

/// <summary>Why a requested device cannot be had.</summary>
public enum DeviceProblem
{
    /// <summary>The device can be had.</summary>
    None,
    /// <summary>CUDA was asked for, but this build references TorchSharp's CPU backend.</summary>
    CpuOnlyBuild,
    /// <summary>CUDA was asked for; this build has the CUDA backend but the machine has no CUDA device.</summary>
    NoCudaDevice,
}

/// <summary>Turns a <see cref="DeviceRequest"/> into a torch device, or says why it cannot.</summary>
public static class DeviceChoice
{
    /// <summary>The one line that says why --device cuda cannot be met.</summary>
    public static string Refusal(DeviceProblem problem) => problem == DeviceProblem.CpuOnlyBuild
        ? "--device cuda: this build uses TorchSharp's CPU backend; build for CUDA with `dotnet build -p:TorchBackend=cuda` (see docs/package.md, 'CUDA') on a machine with an NVIDIA GPU, or use --device cpu."
        : "--device cuda: this build has the CUDA backend but no CUDA device is available here; use --device cpu.";

    /// <summary>Resolves the request; null, with the reason in <paramref name="problem"/>, when it cannot be met.</summary>
    public static Device? Resolve(DeviceRequest request, out DeviceProblem problem)
    {
        problem = DeviceProblem.None;
        bool cuda = torch.cuda.is_available();
        if (request == DeviceRequest.Cpu || (request == DeviceRequest.Auto && !cuda)) return CPU;
        if (cuda) return CUDA;
        problem = BuildInfo.TorchBackend == "cpu" ? DeviceProblem.CpuOnlyBuild : DeviceProblem.NoCudaDevice;
        return null;
    }
}
