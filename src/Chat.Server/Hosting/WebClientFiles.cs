using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace Chat.Server.Hosting;

/// <summary>
/// The web client (<c>src/Chat.Server/WebClient/</c>: plain HTML, CSS and JavaScript, no build step) served at <c>/</c>,
/// with the JavaScript client it is built on (<c>clients/js/chat-client.js</c>, embedded from there as <c>/chat-client.js</c>).
/// The files are embedded in the server's assembly, so every replica serves the same client however it was started
/// (from bin, from a publish folder, in a test process) with no content root to get right. Endpoints
/// (<c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>, <c>/stats</c>, <c>/ws</c>) win over files: the static file
/// middleware steps aside for a request that matched an endpoint.
/// </summary>
public static class WebClientFiles
{
    private static readonly IFileProvider Files = new EmbeddedFileProvider(typeof(WebClientFiles).Assembly, "Chat.Server.WebClient");

    public static WebApplication UseWebClient(this WebApplication app)
    {
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = Files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = Files,
            // Revalidate on every load (cheap: ETag), so a reload after an upgrade never runs yesterday's script.
            OnPrepareResponse = file => file.Context.Response.Headers[HeaderNames.CacheControl] = "no-cache",
        });
        return app;
    }
}
