using Microsoft.Playwright;

namespace TorchMomentum.Tests;

/// <summary>
/// Debian's chromium, headless, started once for a test class and shared by its tests (each opens a context of its
/// own): starting Playwright's driver and the browser took about a second and a half a test, a third of the browser
/// tests' time. When chromium is missing or does not start, <see cref="Missing"/> says why and the tests skip with it.
/// </summary>
public sealed class HeadlessChromium : IAsyncLifetime
{
    /// <summary>Where Debian's package puts it; nothing is downloaded.</summary>
    public const string Path = "/usr/bin/chromium";

    private IPlaywright? playwright;

    /// <summary>The browser, or null when <see cref="Missing"/> says why not.</summary>
    public IBrowser? Browser { get; private set; }

    /// <summary>Why there is no browser (a skip reason), or null.</summary>
    public string? Missing { get; private set; }

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Path))
        {
            Missing = $"needs Debian's chromium at {Path} (apt-get install chromium)";
            return;
        }
        playwright = await Playwright.CreateAsync();
        try
        {
            // As root (CI) chromium needs --no-sandbox; the rest keeps it off a network it cannot reach.
            Browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = Path,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            });
        }
        catch (PlaywrightException e)
        {
            Missing = $"{Path} does not start (apt-get install chromium): {e.Message.Split('\n')[0]}";
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        playwright?.Dispose();
    }
}
