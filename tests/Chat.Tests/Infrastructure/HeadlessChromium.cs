using Microsoft.Playwright;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// Debian's chromium (<c>apt-get install chromium</c>), headless, driven by Playwright: Playwright's own node driver comes
/// in its NuGet package, and the browser is the system one (<see cref="BrowserTypeLaunchOptions.ExecutablePath"/>), so
/// nothing is ever downloaded. One browser process serves a test class; each user gets a context of their own (own
/// cookies and localStorage, as separate browsers would have).
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        var executable = Executable.Require("chromium", "apt-get install chromium", "/usr/bin");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = executable,
                Headless = true,
                // No GPU here; the shared-memory default is small in containers.
                Args = ["--disable-gpu", "--disable-dev-shm-usage"],
            });
            return new HeadlessChromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh browser profile (own localStorage) with one page, at a desktop size unless told otherwise.</summary>
    public async Task<IPage> NewPageAsync(int width = 1200, int height = 760)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
