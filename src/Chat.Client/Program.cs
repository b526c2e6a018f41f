using System.Globalization;

namespace Chat.Client;

public static class Program
{
    /// <summary><c>Chat.Client [host] [port]</c>, 127.0.0.1 and 8000 by default.</summary>
    public static async Task<int> Main(string[] args)
    {
        var host = args.Length > 0 ? args[0] : "127.0.0.1";
        if (args.Length > 1 && !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            await Console.Error.WriteLineAsync("usage: Chat.Client [host] [port]");
            return 2;
        }

        var port = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8000;
        var options = new ClientOptions(host, port);
        if (double.TryParse(Environment.GetEnvironmentVariable("CHAT_CLIENT_HEARTBEAT"), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            options = options with { Heartbeat = TimeSpan.FromSeconds(seconds) };
        }

        options = options with
        {
            HttpBase = new Uri(Environment.GetEnvironmentVariable("CHAT_CLIENT_HTTP") is { Length: > 0 } http ? http : $"http://{host}:8080/"),
        };
        var client = new ChatClient(options, Console.In, new Printer(Console.Out), TimeProvider.System);
        return await client.RunAsync();
    }
}
