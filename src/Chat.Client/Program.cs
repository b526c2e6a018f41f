using System.Globalization;

namespace Chat.Client;

public static class Program
{
    /// <summary>
    /// <c>Chat.Client [host] [port]</c>, 127.0.0.1 and 8000 by default; or <c>Chat.Client ws://host:port/ws</c> (also
    /// <c>wss://</c>, <c>tcp://host:port</c>) for an endpoint by URL.
    /// </summary>
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && Uri.TryCreate(args[0], UriKind.Absolute, out var endpoint) && endpoint.Scheme is "tcp" or "ws" or "wss")
        {
            return await RunAsync(new ClientOptions(endpoint.Host, endpoint.Port) { Endpoint = endpoint });
        }

        var host = args.Length > 0 ? args[0] : "127.0.0.1";
        if (args.Length > 1 && !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            await Console.Error.WriteLineAsync("usage: Chat.Client [host] [port] | Chat.Client ws://host:port/ws");
            return 2;
        }

        var port = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8000;
        return await RunAsync(new ClientOptions(host, port));
    }

    private static async Task<int> RunAsync(ClientOptions options)
    {
        if (double.TryParse(Environment.GetEnvironmentVariable("CHAT_CLIENT_HEARTBEAT"), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            options = options with { Heartbeat = TimeSpan.FromSeconds(seconds) };
        }

        // Files go over HTTP: to nginx's http server by default, or where a WebSocket endpoint is (the same server).
        var httpBase = options.Endpoint.Scheme switch
        {
            "ws" => new UriBuilder("http", options.Host, options.Port).Uri,
            "wss" => new UriBuilder("https", options.Host, options.Port).Uri,
            _ => new UriBuilder("http", options.Host, 8080).Uri,
        };
        options = options with
        {
            HttpBase = Environment.GetEnvironmentVariable("CHAT_CLIENT_HTTP") is { Length: > 0 } http ? new Uri(http) : httpBase,
        };
        var client = new ChatClient(options, Console.In, new Printer(Console.Out), TimeProvider.System);
        return await client.RunAsync();
    }
}
