using System.Net;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Web;

/// <summary>
/// The files a replica serves at <c>/</c> (Hosting/WebClientFiles): the page's link to the server is the JavaScript
/// client of <c>clients/js</c>, embedded at build time from that one source file.
/// </summary>
public sealed class WebClientFilesTests
{
    [Fact]
    public async Task The_page_loads_the_javascript_client_served_byte_for_byte_from_clients_js()
    {
        await using var replica = await Replica.StartAsync(TestDatabase.Sqlite("webfiles"));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{replica.HttpPort}/") };

        Assert.Contains("from \"./chat-client.js\"", await http.GetStringAsync(new Uri("/app.js", UriKind.Relative)), StringComparison.Ordinal);
        using var served = await http.GetAsync(new Uri("/chat-client.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Contains(served.Content.Headers.ContentType?.MediaType, (string?[])["text/javascript", "application/javascript"]);
        var source = await File.ReadAllBytesAsync(Path.Combine(Repository.Root, "clients", "js", "chat-client.js"));
        Assert.Equal(source, await served.Content.ReadAsByteArrayAsync());

        using var gone = await http.GetAsync(new Uri("/connection.js", UriKind.Relative)); // the copy the web client had of the same logic
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }
}
