using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Chat.Server.Transport;

/// <summary>
/// <c>GET /ws</c> on the HTTP port: a WebSocket that is a chat connection like one on the chat port (see
/// <see cref="WebSocketConnection"/>). The client's address, for the per-address login limits and logs, is the
/// connection's; only from <c>Chat:TrustedProxies</c> (nginx's <c>http</c> server) is <c>X-Forwarded-For</c>
/// believed instead, its last entry (the one the proxy added).
/// </summary>
public static class WebSocketEndpoint
{
    public const string Path = "/ws";

    public static WebApplication MapChatWebSocket(this WebApplication app)
    {
        var connection = app.Services.GetRequiredService<IOptions<ConnectionOptions>>().Value;
        var trusted = TrustedProxies.Parse(app.Services.GetRequiredService<IOptions<ChatServerOptions>>().Value.TrustedProxies);
        if (trusted.Length > 0)
        {
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor };
            // Not the defaults (loopback): only the proxies the operator named.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var network in trusted)
            {
                forwarded.KnownIPNetworks.Add(network);
            }

            app.UseForwardedHeaders(forwarded);
        }

        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = connection.WebSocketKeepAlive, KeepAliveTimeout = connection.WebSocketKeepAlive });
        app.Map(Path, AcceptAsync);
        return app;
    }

    private static async Task AcceptAsync(HttpContext http, ChatConnectionHandler handler, IOptions<ConnectionOptions> options, ConnectionRegistry registry)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await http.Response.WriteAsync("/ws is a WebSocket: one chat frame per text message\n");
            return;
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        await using var connection = new WebSocketConnection(socket, http.Connection, options.Value, registry);
        await connection.RunAsync(handler);
    }
}
