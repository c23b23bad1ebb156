using System.Globalization;

namespace TorchMomentum.Tests;

/// <summary>The committed reference files under Fixtures/, and how losses files are compared with them.</summary>
internal static class Fixtures
{
    /// <summary>The path of Fixtures/<paramref name="name"/> in the test output.</summary>
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>
    /// Asserts two losses.csv files have the same header, steps and epochs, and returns the largest
    /// absolute difference of any loss in them.
    /// </summary>
    public static double LargestLossDifference(string expectedFile, string actualFile)
    {
        var expected = File.ReadAllLines(expectedFile);
        var actual = File.ReadAllLines(actualFile);
        Assert.Equal(expected[0], actual[0]);
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 1; i < expected.Length; i++)
        {
            var e = expected[i].Split(',');
            var a = actual[i].Split(',');
            Assert.Equal(e[..2], a[..2]);
            for (int c = 2; c < e.Length; c++)
                worst = Math.Max(worst, Math.Abs(double.Parse(e[c], CultureInfo.InvariantCulture) - double.Parse(a[c], CultureInfo.InvariantCulture)));
        }
        return worst;
    }
}
