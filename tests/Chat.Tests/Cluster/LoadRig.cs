using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Cluster;

/// <summary>Two in-process replicas on one database and Redis, behind nginx, with the load already running.</summary>
public sealed class LoadRig : IAsyncDisposable
{
    public const int Pairs = 6;
    public const int Before = 300;
    public static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(5);
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private LoadRig(Replica a, Replica b, NginxServer nginx, ChatLoad load, string redisPrefix) => (A, B, Nginx, Load, RedisPrefix) = (a, b, nginx, load, redisPrefix);

    public Replica A { get; }

    public Replica B { get; }

    public NginxServer Nginx { get; }

    public ChatLoad Load { get; }

    public int[] HttpPorts => [A.HttpPort, B.HttpPort];

    /// <summary>The replicas' <c>Chat:RedisPrefix</c>: this rig's own, since a Redis Cluster is shared by the test run.</summary>
    public string RedisPrefix { get; }

    /// <param name="redis">ConnectionStrings:Redis: one Redis or a Redis Cluster.</param>
    /// <param name="acrossReplicas">Senders on A and recipients on B, so every message crosses the bus; else every
    /// connection through nginx.</param>
    public static async Task<LoadRig> StartAsync(TestDatabase database, string redis, bool acrossReplicas = false)
    {
        var prefix = TestClient.Unique("t") + ":";
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = redis, ["Chat:RedisPrefix"] = prefix, ["Chat:PresenceTtl"] = "00:00:03" };
        var started = new List<IAsyncDisposable>();
        try
        {
            var a = await Replica.StartAsync(database, settings);
            started.Add(a);
            var b = await Replica.StartAsync(database, settings);
            started.Add(b);
            var nginx = await NginxServer.StartNewAsync([a.ChatPort, b.ChatPort]);
            started.Add(nginx);
            var load = acrossReplicas ? await StartLoadAsync(a.ChatPort, b.ChatPort) : await StartLoadAsync(nginx.Port);
            return new LoadRig(a, b, nginx, load, prefix);
        }
        catch
        {
            foreach (var part in Enumerable.Reverse(started)) await part.DisposeAsync();
            throw;
        }
    }

    /// <summary>Pairs chatting through <paramref name="port"/> (recipients through <paramref name="receiverPort"/> if
    /// given), already past the first <see cref="Before"/> messages.</summary>
    public static async Task<ChatLoad> StartLoadAsync(int port, int? receiverPort = null)
    {
        var load = await ChatLoad.StartAsync(port, Pairs, Pace, receiverPort);
        await load.WaitForAcceptedAsync(Before, Deadline);
        return load;
    }

    /// <summary>Waits until both replicas' /readyz say <paramref name="ready"/>.</summary>
    public async Task WaitReadyAsync(bool ready, string what)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Wait.UntilAsync(
            async () =>
            {
                foreach (var port in HttpPorts)
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"));
                    if (response.IsSuccessStatusCode != ready) return false;
                }

                return true;
            },
            Deadline,
            what);
    }

    public async ValueTask DisposeAsync()
    {
        await Load.DisposeAsync();
        await Nginx.DisposeAsync();
        await A.DisposeAsync();
        await B.DisposeAsync();
    }
}
