// MSBuild inline task (see TorchSharpNative.targets). Reads the ELF64 file named by Library, finds the
// GLIBCXX versions it requires from libstdc++.so.6 that this system's libstdc++ does not define, and
// marks those requirements weak (VER_FLG_WEAK) so the dynamic loader accepts the library. It refuses
// to do so unless every symbol bound to a missing version is one the shim provides: a weak
// requirement for anything else would only turn a clear load error into a crash later.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenMissingLibstdcxxVersions : Task
{
    const uint SHT_DYNAMIC = 6, SHT_DYNSYM = 11, SHT_GNU_verneed = 0x6ffffffe, SHT_GNU_versym = 0x6fffffff;
    const ushort VER_FLG_WEAK = 0x2;
    const long DT_NEEDED = 1;
    static readonly string[] ShimmedSymbols = { "_ZSt21ios_base_library_initv" };

    [Required] public string Library { get; set; }
    [Required] public string ShimName { get; set; }
    [Output] public bool NeedsShim { get; set; }
    [Output] public bool HasShim { get; set; }

    sealed class Section { public uint Type; public long Offset; public long Size; public uint Link; public uint Info; }
    sealed class Requirement { public string Name; public ushort Flags; public ushort Index; public long FlagsOffset; }

    public override bool Execute()
    {
        byte[] elf = File.ReadAllBytes(Library);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F' || elf[4] != 2 || elf[5] != 1)
        {
            Log.LogMessage(MessageImportance.Low, $"{Library}: not a little-endian ELF64 file, left alone.");
            return true;
        }
        string libstdcxx = FindLoadedLibstdcxx();
        if (libstdcxx is null)
        {
            Log.LogMessage(MessageImportance.Low, "No libstdc++.so.6 found in this process; nothing to compare, left alone.");
            return true;
        }
        byte[] system = File.ReadAllBytes(libstdcxx);

        var sections = ReadSections(elf);
        var missing = ReadLibstdcxxRequirements(elf, sections)
            .Where(r => r.Name.StartsWith("GLIBCXX_", StringComparison.Ordinal) && !Defines(system, r.Name))
            .ToList();
        if (missing.Count == 0)
        {
            Log.LogMessage(MessageImportance.Low, $"{libstdcxx} defines every version {Path.GetFileName(Library)} needs; nothing to patch.");
            return true;
        }

        foreach (var symbol in SymbolsBoundTo(elf, sections, missing))
        {
            if (!ShimmedSymbols.Contains(symbol.Name))
            {
                Log.LogError($"{Path.GetFileName(Library)} needs {symbol.Name}@{symbol.Version}, which {libstdcxx} lacks and no shim provides: install a newer libstdc++ (GCC 13 or later).");
                return false;
            }
        }

        NeedsShim = true;
        HasShim = NeededLibraries(elf, sections).Contains(ShimName);
        var toWeaken = missing.Where(r => (r.Flags & VER_FLG_WEAK) == 0).ToList();
        if (toWeaken.Count == 0) return true;

        // The output copy may be a hard link into the NuGet folder: write a fresh file so that only
        // this copy changes.
        foreach (var r in toWeaken)
        {
            ushort flags = (ushort)(r.Flags | VER_FLG_WEAK);
            elf[r.FlagsOffset] = (byte)flags;
            elf[r.FlagsOffset + 1] = (byte)(flags >> 8);
        }
        string temporary = Library + ".patching";
        File.WriteAllBytes(temporary, elf);
        File.Delete(Library);
        File.Move(temporary, Library);
        Log.LogMessage(MessageImportance.Normal,
            $"Marked {string.Join(", ", toWeaken.Select(r => r.Name))} weak in {Library} (this system's libstdc++ lacks it).");
        return true;
    }

    // The libstdc++ this very process (the dotnet host) loaded is the one TorchSharp will get at run time.
    static string FindLoadedLibstdcxx()
    {
        if (!File.Exists("/proc/self/maps")) return null;
        return File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .FirstOrDefault(path => Path.GetFileName(path).StartsWith("libstdc++.so.6", StringComparison.Ordinal) && File.Exists(path));
    }

    // A version a library defines stands in its string table as "\0NAME\0".
    static bool Defines(byte[] library, string version)
    {
        byte[] needle = Encoding.ASCII.GetBytes("\0" + version + "\0");
        for (int i = 0; i + needle.Length <= library.Length; i++)
        {
            int k = 0;
            while (k < needle.Length && library[i + k] == needle[k]) k++;
            if (k == needle.Length) return true;
        }
        return false;
    }

    static List<Section> ReadSections(byte[] elf)
    {
        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        var sections = new List<Section>();
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            sections.Add(new Section
            {
                Type = BitConverter.ToUInt32(elf, (int)h + 4),
                Offset = (long)BitConverter.ToUInt64(elf, (int)h + 24),
                Size = (long)BitConverter.ToUInt64(elf, (int)h + 32),
                Link = BitConverter.ToUInt32(elf, (int)h + 40),
                Info = BitConverter.ToUInt32(elf, (int)h + 44),
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

    static List<Requirement> ReadLibstdcxxRequirements(byte[] elf, List<Section> sections)
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
                {
                    result.Add(new Requirement
                    {
                        Flags = BitConverter.ToUInt16(elf, (int)aux + 4),
                        Index = BitConverter.ToUInt16(elf, (int)aux + 6),
                        Name = ReadString(elf, strtab, BitConverter.ToUInt32(elf, (int)aux + 8)),
                        FlagsOffset = aux + 4,
                    });
                }
                aux += BitConverter.ToUInt32(elf, (int)aux + 12);
            }
            entry += BitConverter.ToUInt32(elf, (int)entry + 12);
        }
        return result;
    }

    static IEnumerable<(string Name, string Version)> SymbolsBoundTo(byte[] elf, List<Section> sections, List<Requirement> versions)
    {
        var dynsym = sections.FirstOrDefault(s => s.Type == SHT_DYNSYM);
        var versym = sections.FirstOrDefault(s => s.Type == SHT_GNU_versym);
        if (dynsym is null || versym is null) yield break;
        var strtab = sections[(int)dynsym.Link];
        long count = dynsym.Size / 24;
        for (long i = 0; i < count; i++)
        {
            ushort index = (ushort)(BitConverter.ToUInt16(elf, (int)(versym.Offset + 2 * i)) & 0x7fff);
            var version = versions.FirstOrDefault(v => v.Index == index);
            if (version is not null)
                yield return (ReadString(elf, strtab, BitConverter.ToUInt32(elf, (int)(dynsym.Offset + 24 * i))), version.Name);
        }
    }

    static List<string> NeededLibraries(byte[] elf, List<Section> sections)
    {
        var result = new List<string>();
        var dynamic = sections.FirstOrDefault(s => s.Type == SHT_DYNAMIC);
        if (dynamic is null) return result;
        var strtab = sections[(int)dynamic.Link];
        for (long e = dynamic.Offset; e + 16 <= dynamic.Offset + dynamic.Size; e += 16)
        {
            long tag = BitConverter.ToInt64(elf, (int)e);
            if (tag == 0) break;
            if (tag == DT_NEEDED) result.Add(ReadString(elf, strtab, (uint)BitConverter.ToUInt64(elf, (int)e + 8)));
        }
        return result;
    }
}
