namespace TorchMomentum.Tests;

/// <summary>
/// The build's patch of TorchSharp's native glue (build/WeakenMissingLibstdcxxVersions.cs), run on the real
/// libLibTorchSharp.so as a Debian 12 system would see it: libstdc++ without GLIBCXX_3.4.32.
/// </summary>
public class NativePatchTests
{
    private const string Missing = "GLIBCXX_3.4.32", Anchor = "_ZSt21ios_base_library_initv";
    private static readonly Func<string, bool> Debian12 = version => version != Missing;

    /// <summary>The glue as TorchSharp ships it: the output copy with any weak flag the build set taken off again.</summary>
    private static byte[] ShippedGlue()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.SkipUnless(File.Exists(path), $"no Linux glue in the test output ({path})");
        byte[] elf = File.ReadAllBytes(path);
        foreach (var r in LibstdcxxVersionPatch.Requirements(elf))
            elf[r.FlagsOffset] &= unchecked((byte)~LibstdcxxVersionPatch.VER_FLG_WEAK);
        return elf;
    }

    [Fact]
    public void Marks_only_the_missing_version_weak_and_changes_no_other_byte()
    {
        byte[] shipped = ShippedGlue();
        var plan = LibstdcxxVersionPatch.Inspect(shipped, Debian12);
        Assert.Equal([Missing], plan.Missing.Select(r => r.Name));
        Assert.Empty(plan.RelocatedSymbols);

        byte[] patched = (byte[])shipped.Clone();
        LibstdcxxVersionPatch.Weaken(patched, plan);
        var changed = Enumerable.Range(0, shipped.Length).Where(i => shipped[i] != patched[i]).ToList();
        Assert.Equal([(int)plan.Missing[0].FlagsOffset], changed);
        var after = LibstdcxxVersionPatch.Requirements(patched).Single(r => r.Name == Missing);
        Assert.Equal(LibstdcxxVersionPatch.VER_FLG_WEAK, after.Flags & LibstdcxxVersionPatch.VER_FLG_WEAK);
        Assert.Empty(LibstdcxxVersionPatch.Inspect(patched, Debian12).ToWeaken);
    }

    [Fact]
    public void Leaves_the_glue_alone_where_libstdcxx_defines_every_version()
    {
        var plan = LibstdcxxVersionPatch.Inspect(ShippedGlue(), _ => true);
        Assert.Empty(plan.Missing);
        Assert.Empty(plan.ToWeaken);
    }

    [Fact]
    public void Refuses_when_a_relocation_uses_a_symbol_bound_to_the_missing_version()
    {
        // A synthetic glue whose first relocation is pointed at the anchor symbol, as if the library
        // really called std::ios_base_library_init(): weakening would then only defer a crash.
        byte[] elf = ShippedGlue();
        int anchor = LibstdcxxVersionPatch.DynamicSymbolIndex(elf, Anchor);
        Assert.True(anchor > 0, $"{Anchor} is not a dynamic symbol of the glue");
        var relocation = LibstdcxxVersionPatch.Relocations(elf).First();
        ulong info = BitConverter.ToUInt64(elf, (int)relocation.InfoOffset);
        BitConverter.TryWriteBytes(elf.AsSpan((int)relocation.InfoOffset, 8), ((ulong)anchor << 32) | (info & 0xffffffff));

        var plan = LibstdcxxVersionPatch.Inspect(elf, Debian12);
        Assert.Equal([$"{Anchor}@{Missing}"], plan.RelocatedSymbols);
    }
}
