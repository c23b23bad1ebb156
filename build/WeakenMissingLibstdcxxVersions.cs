#nullable disable
// Makes TorchSharp's native glue load on systems whose libstdc++ is older than the one it was built
// against, by marking the missing GLIBCXX version requirements weak (VER_FLG_WEAK). Two parts in one
// file, because MSBuild's RoslynCodeTaskFactory compiles a task from a single source file:
//   - LibstdcxxVersionPatch: the ELF reading and the decision, plain C# with no MSBuild types, so the
//     tests compile this same file and prove the safety check fires (tests define ELF_PATCH_TESTS);
//   - WeakenMissingLibstdcxxVersions: the MSBuild task that applies it to one output copy.
//
// Why a flag is enough: TorchSharp 0.107's libLibTorchSharp.so (GCC 13) needs one symbol from
// GLIBCXX_3.4.32, std::ios_base_library_init(). GCC 13's <iostream> emits it as a bare .globl anchor
// that no relocation uses, so nothing ever binds it; only the version requirement stops the loader.
// If a symbol bound to a missing version IS used by a relocation, a weak requirement would turn a
// clear load error into a crash later, so the patch refuses instead.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

/// <summary>Reads an ELF64 shared library's libstdc++ version needs and weakens the ones a system lacks.</summary>
public static class LibstdcxxVersionPatch
{
    const uint SHT_RELA = 4, SHT_REL = 9, SHT_DYNSYM = 11, SHT_GNU_verneed = 0x6ffffffe, SHT_GNU_versym = 0x6fffffff;
    /// <summary>The Vernaux flag that lets the loader accept a library whose version need is not met.</summary>
    public const ushort VER_FLG_WEAK = 0x2;

    /// <summary>One Vernaux entry of libstdc++.so.6: a version name and where its 16-bit flags are in the file.</summary>
    public sealed class Requirement
    {
        public string Name; public ushort Flags; public ushort Index; public long FlagsOffset;
    }

    /// <summary>One relocation: the file offset of its r_info field and the dynamic symbol it names.</summary>
    public sealed class Relocation
    {
        public long InfoOffset; public uint Symbol;
    }

    /// <summary>What the patch would do to one library on one system.</summary>
    public sealed class Plan
    {
        /// <summary>libstdc++ versions the library needs and the system does not define.</summary>
        public List<Requirement> Missing = new List<Requirement>();
        /// <summary>Symbols bound to a missing version that a relocation uses ("name@version"): non-empty means refuse.</summary>
        public List<string> RelocatedSymbols = new List<string>();
        /// <summary>Missing versions not yet marked weak.</summary>
        public IEnumerable<Requirement> ToWeaken => Missing.Where(r => (r.Flags & VER_FLG_WEAK) == 0);
    }

    sealed class Section { public uint Type; public long Offset; public long Size; public long EntrySize; public uint Link; public uint Info; }

    /// <summary>True for a little-endian ELF64 file, the only kind this patch reads.</summary>
    public static bool IsElf64(byte[] elf) =>
        elf.Length >= 64 && elf[0] == 0x7f && elf[1] == 'E' && elf[2] == 'L' && elf[3] == 'F' && elf[4] == 2 && elf[5] == 1;

    /// <summary>Decides what to weaken in <paramref name="elf"/>, given which version names the system's libstdc++ defines.</summary>
    public static Plan Inspect(byte[] elf, Func<string, bool> systemDefines)
    {
        var sections = ReadSections(elf);
        var plan = new Plan();
        plan.Missing = Requirements(elf, sections).Where(r => r.Name.StartsWith("GLIBCXX_", StringComparison.Ordinal) && !systemDefines(r.Name)).ToList();
        if (plan.Missing.Count == 0) return plan;

        var bound = BoundSymbols(elf, sections, plan.Missing);
        foreach (var relocation in Relocations(elf))
            if (bound.TryGetValue(relocation.Symbol, out var symbol) && !plan.RelocatedSymbols.Contains(symbol))
                plan.RelocatedSymbols.Add(symbol);
        return plan;
    }

    /// <summary>ORs VER_FLG_WEAK into the flags of each requirement the plan found missing; changes no other byte.</summary>
    public static void Weaken(byte[] elf, Plan plan)
    {
        foreach (var r in plan.ToWeaken.ToList())
        {
            ushort flags = (ushort)(r.Flags | VER_FLG_WEAK);
            elf[r.FlagsOffset] = (byte)flags;
            elf[r.FlagsOffset + 1] = (byte)(flags >> 8);
        }
    }

    /// <summary>Every libstdc++.so.6 version requirement of the library (its SHT_GNU_verneed entries).</summary>
    public static List<Requirement> Requirements(byte[] elf) => Requirements(elf, ReadSections(elf));

    /// <summary>Every entry of the library's SHT_RELA and SHT_REL sections that names a symbol.</summary>
    public static List<Relocation> Relocations(byte[] elf)
    {
        var result = new List<Relocation>();
        foreach (var s in ReadSections(elf).Where(s => s.Type == SHT_RELA || s.Type == SHT_REL))
        {
            long size = s.EntrySize > 0 ? s.EntrySize : (s.Type == SHT_RELA ? 24 : 16);
            for (long e = s.Offset; e + size <= s.Offset + s.Size; e += size)
                result.Add(new Relocation { InfoOffset = e + 8, Symbol = (uint)(BitConverter.ToUInt64(elf, (int)e + 8) >> 32) });
        }
        return result;
    }

    /// <summary>The index of the dynamic symbol called <paramref name="name"/>, or -1.</summary>
    public static int DynamicSymbolIndex(byte[] elf, string name)
    {
        var sections = ReadSections(elf);
        var dynsym = sections.FirstOrDefault(s => s.Type == SHT_DYNSYM);
        if (dynsym is null) return -1;
        for (int i = 0; i < dynsym.Size / 24; i++)
            if (ReadString(elf, sections[(int)dynsym.Link], BitConverter.ToUInt32(elf, (int)(dynsym.Offset + 24 * i))) == name) return i;
        return -1;
    }

    static List<Section> ReadSections(byte[] elf)
    {
        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        var sections = new List<Section>();
        for (int i = 0; i < shnum; i++)
        {
            int h = (int)(shoff + (long)i * shentsize);
            sections.Add(new Section
            {
                Type = BitConverter.ToUInt32(elf, h + 4),
                Offset = (long)BitConverter.ToUInt64(elf, h + 24),
                Size = (long)BitConverter.ToUInt64(elf, h + 32),
                Link = BitConverter.ToUInt32(elf, h + 40),
                Info = BitConverter.ToUInt32(elf, h + 44),
                EntrySize = (long)BitConverter.ToUInt64(elf, h + 56),
            });
        }
        return sections;
    }

    static string ReadString(byte[] elf, Section strtab, uint offset)
    {
        int start = (int)(strtab.Offset + offset), end = start;
        while (elf[end] != 0) end++;
        return Encoding.ASCII.GetString(elf, start, end - start);
    }

    // Verneed entries (16 bytes: version, count, file, aux, next), each with Vernaux entries (16 bytes:
    // hash, flags at +4, other = version index at +6, name at +8, next at +12).
    static List<Requirement> Requirements(byte[] elf, List<Section> sections)
    {
        var result = new List<Requirement>();
        var verneed = sections.FirstOrDefault(s => s.Type == SHT_GNU_verneed);
        if (verneed is null) return result;
        var strtab = sections[(int)verneed.Link];
        long entry = verneed.Offset;
        for (uint i = 0; i < verneed.Info; i++)
        {
            ushort count = BitConverter.ToUInt16(elf, (int)entry + 2);
            string file = ReadString(elf, strtab, BitConverter.ToUInt32(elf, (int)entry + 4));
            long aux = entry + BitConverter.ToUInt32(elf, (int)entry + 8);
            for (int j = 0; j < count; j++)
            {
                if (file == "libstdc++.so.6")
                    result.Add(new Requirement
                    {
                        Flags = BitConverter.ToUInt16(elf, (int)aux + 4),
                        Index = BitConverter.ToUInt16(elf, (int)aux + 6),
                        Name = ReadString(elf, strtab, BitConverter.ToUInt32(elf, (int)aux + 8)),
                        FlagsOffset = aux + 4,
                    });
                aux += BitConverter.ToUInt32(elf, (int)aux + 12);
            }
            entry += BitConverter.ToUInt32(elf, (int)entry + 12);
        }
        return result;
    }

    // Dynamic symbol index -> "name@version" for the symbols whose versym entry is one of the versions.
    static Dictionary<uint, string> BoundSymbols(byte[] elf, List<Section> sections, List<Requirement> versions)
    {
        var result = new Dictionary<uint, string>();
        var dynsym = sections.FirstOrDefault(s => s.Type == SHT_DYNSYM);
        var versym = sections.FirstOrDefault(s => s.Type == SHT_GNU_versym);
        if (dynsym is null || versym is null) return result;
        for (uint i = 0; i < dynsym.Size / 24; i++)
        {
            ushort index = (ushort)(BitConverter.ToUInt16(elf, (int)(versym.Offset + 2 * i)) & 0x7fff);
            var version = versions.FirstOrDefault(v => v.Index == index);
            if (version != null)
                result[i] = ReadString(elf, sections[(int)dynsym.Link], BitConverter.ToUInt32(elf, (int)(dynsym.Offset + 24 * i))) + "@" + version.Name;
        }
        return result;
    }

    /// <summary>
    /// A predicate over the version names that the libstdc++ at <paramref name="path"/> defines: a defined
    /// version stands in its string table as "\0NAME\0".
    /// </summary>
    public static Func<string, bool> DefinedBy(string path)
    {
        string text = Encoding.ASCII.GetString(File.ReadAllBytes(path));
        return version => text.Contains("\0" + version + "\0");
    }

    /// <summary>The libstdc++ this process loaded (the dotnet host's, so the one TorchSharp will get), or null.</summary>
    public static string LoadedLibstdcxx()
    {
        if (!File.Exists("/proc/self/maps")) return null;
        return File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .FirstOrDefault(path => Path.GetFileName(path).StartsWith("libstdc++.so.6", StringComparison.Ordinal) && File.Exists(path));
    }
}

#if !ELF_PATCH_TESTS
/// <summary>MSBuild task: weakens, in the one output copy named by Library, the libstdc++ versions this system lacks.</summary>
public class WeakenMissingLibstdcxxVersions : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required] public string Library { get; set; }

    public override bool Execute()
    {
        byte[] elf = File.ReadAllBytes(Library);
        string libstdcxx = LibstdcxxVersionPatch.LoadedLibstdcxx();
        if (!LibstdcxxVersionPatch.IsElf64(elf) || libstdcxx == null) return true;

        var plan = LibstdcxxVersionPatch.Inspect(elf, LibstdcxxVersionPatch.DefinedBy(libstdcxx));
        if (plan.RelocatedSymbols.Count > 0)
        {
            Log.LogError($"{Path.GetFileName(Library)} uses {string.Join(", ", plan.RelocatedSymbols)}, which {libstdcxx} lacks: "
                + "it cannot be made to load here; install a libstdc++ from GCC 13 or later.");
            return false;
        }
        var toWeaken = plan.ToWeaken.Select(r => r.Name).ToList();
        if (toWeaken.Count == 0) return true;

        // The output copy may be a hard link into the NuGet folder: write a new file and move it over,
        // so only this copy changes. The temporary name is unique per writer.
        LibstdcxxVersionPatch.Weaken(elf, plan);
        string temporary = $"{Library}.{Guid.NewGuid():N}.patching";
        File.WriteAllBytes(temporary, elf);
        File.Replace(temporary, Library, null);
        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
            $"Marked {string.Join(", ", toWeaken)} weak in {Library} (this system's libstdc++ lacks it; nothing uses its symbols).");
        return true;
    }
}
#endif
