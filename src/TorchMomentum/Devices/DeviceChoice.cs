using TorchSharp;
using static TorchSharp.torch;

namespace TorchMomentum.Devices;

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

/// <summary>Turns a <see cref="DeviceRequest"/> into a torch device, or says why it cannot.</summary>
public static class DeviceChoice
{
    /// <summary>The backend this build was compiled against: "cpu" or "cuda" (see the README's CUDA build).</summary>
    public static string Backend => TorchMomentum.BuildInfo.TorchBackend;

    /// <summary>
    /// Resolves the request. Returns null and a one-line reason when CUDA is asked for but not available.
    /// </summary>
    public static Device? Resolve(DeviceRequest request, out string? error)
    {
        error = null;
        bool cuda = torch.cuda.is_available();
        switch (request)
        {
            case DeviceRequest.Cpu:
                return CPU;
            case DeviceRequest.Auto:
                return cuda ? CUDA : CPU;
            default:
                if (cuda) return CUDA;
                error = Backend == "cpu"
                    ? "--device cuda: this build uses TorchSharp's CPU backend; build for CUDA with `dotnet build -p:TorchBackend=cuda` (see README, 'CUDA') on a machine with an NVIDIA GPU, or use --device cpu."
                    : "--device cuda: this build has the CUDA backend but no CUDA device is available here; use --device cpu.";
                return null;
        }
    }
}
