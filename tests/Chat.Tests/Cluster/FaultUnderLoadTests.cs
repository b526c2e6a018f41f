using System.Diagnostics;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Cluster;

/// <summary>
/// Faults under load: two replicas behind a real nginx, pairs of users chatting through it with cids, every message
/// counted (<see cref="ChatLoad"/>). Whatever breaks, a message the server accepted reaches its recipient.
/// The counts go to CHAT_TEST_REPORT, which scripts/test.sh prints.
/// </summary>
public sealed class FaultUnderLoadTests
{
    private const int Pairs = 6;
    private const int Before = 300;
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_SIGKILLed_replicas_users_reconnect_through_nginx_resume_and_lose_nothing()
    {
        var database = await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("fault_kill");
        await using var redis = await RedisServer.StartNewAsync();
        var settings = new Dictionary<string, string> { ["Chat:PresenceTtl"] = "00:00:03" };
        await using var doomed = await ReplicaProcess.StartAsync(database, redis.ConnectionString, settings);
        await using var survivor = await ReplicaProcess.StartAsync(database, redis.ConnectionString, settings);
        await using var nginx = await NginxServer.StartNewAsync([doomed.ChatPort, survivor.ChatPort]);
        await using var load = await StartLoadAsync(nginx.Port);

        doomed.KillHard();
        await load.WaitForEveryPairLiveAsync(10, Deadline, "after the SIGKILL");
        var counts = await load.StopAsync(Settle);

        counts.Report(nameof(A_SIGKILLed_replicas_users_reconnect_through_nginx_resume_and_lose_nothing));
        Assert.True(counts.Reconnects > 0, counts.ToString());
        Assert.Equal(0, counts.Lost);
    }

    [Fact]
    public async Task Redis_restarting_under_load_loses_nothing_and_live_delivery_comes_back_by_itself()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var rig = await Rig.StartAsync(await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("fault_redis"), redis);
        var load = rig.Load;

        await redis.StopAsync();
        await load.WaitForAcceptedAsync(load.Accepted + 100, Deadline); // the database is up: messages are still taken
        await redis.StartAsync();
        await WaitReadyAsync(true, "ready again after Redis restarted", rig.HttpPorts);
        await load.WaitForEveryPairLiveAsync(10, Deadline, "after Redis restarted");
        var counts = await load.StopAsync(Settle);

        counts.Report(nameof(Redis_restarting_under_load_loses_nothing_and_live_delivery_comes_back_by_itself));
        Assert.Equal(0, counts.Lost);
    }

    [Fact]
    public async Task MariaDB_stopping_for_ten_seconds_gives_senders_errors_not_silence_and_loses_nothing_acked()
    {
        await using var mariadb = await MariaDbServer.StartNewAsync();
        await using var redis = await RedisServer.StartNewAsync();
        await using var rig = await Rig.StartAsync(await mariadb.CreateDatabaseAsync("fault_db"), redis);
        var load = rig.Load;

        await mariadb.StopAsync();
        var outage = Stopwatch.StartNew();
        await WaitReadyAsync(false, "/readyz red without MariaDB", rig.HttpPorts);
        await Wait.UntilAsync(() => load.Refused > 0, Deadline, "a sender to be told its message was not taken");

        // The outage lasts ten seconds; all along, both replicas stay up and keep answering.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (outage.Elapsed < TimeSpan.FromSeconds(10))
        {
            foreach (var port in rig.HttpPorts)
            {
                using var alive = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
                Assert.True(alive.IsSuccessStatusCode, $"replica on {port} alive during the outage");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        await mariadb.RestartAsync();
        await WaitReadyAsync(true, "/readyz green once MariaDB is back", rig.HttpPorts);
        var refusedDuringOutage = load.Refused;
        await load.WaitForEveryPairLiveAsync(10, Deadline, "after MariaDB came back");
        var counts = await load.StopAsync(Settle);

        counts.Report(nameof(MariaDB_stopping_for_ten_seconds_gives_senders_errors_not_silence_and_loses_nothing_acked));
        Assert.True(refusedDuringOutage > 0, counts.ToString());
        Assert.Equal(0, counts.Lost);
    }

    [Fact]
    public async Task Reloading_nginx_under_load_keeps_every_connection_working()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var rig = await Rig.StartAsync(await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("fault_reload"), redis);
        var load = rig.Load;

        await rig.Nginx.ReloadAsync();
        await load.WaitForEveryPairLiveAsync(10, Deadline, "after nginx -s reload");
        var counts = await load.StopAsync(Settle);

        counts.Report(nameof(Reloading_nginx_under_load_keeps_every_connection_working));
        Assert.Equal(0, counts.Reconnects);
        Assert.Equal(0, counts.Lost);
    }

    [Fact]
    public async Task A_SIGTERMed_replica_drains_releases_presence_at_once_and_loses_nothing()
    {
        var database = await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("fault_term");
        await using var redis = await RedisServer.StartNewAsync();
        // A long TTL: users can log in elsewhere at once only because the drain released their presence.
        var settings = new Dictionary<string, string> { ["Chat:PresenceTtl"] = "00:05:00" };
        await using var stopping = await ReplicaProcess.StartAsync(database, redis.ConnectionString, settings);
        await using var staying = await ReplicaProcess.StartAsync(database, redis.ConnectionString, settings);
        await using var nginx = await NginxServer.StartNewAsync([stopping.ChatPort, staying.ChatPort]);
        await using var load = await StartLoadAsync(nginx.Port);

        var exitCode = await stopping.TerminateAsync(TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{stopping.Output}");
        await load.WaitForEveryPairLiveAsync(10, TimeSpan.FromSeconds(30), "after the SIGTERM");
        var counts = await load.StopAsync(Settle);

        counts.Report(nameof(A_SIGTERMed_replica_drains_releases_presence_at_once_and_loses_nothing));
        Assert.True(counts.Reconnects > 0, counts.ToString());
        Assert.Equal(0, counts.Lost);
    }

    /// <summary>Pairs chatting through <paramref name="port"/>, already past the first <see cref="Before"/> messages.</summary>
    private static async Task<ChatLoad> StartLoadAsync(int port)
    {
        var load = await ChatLoad.StartAsync(port, Pairs, Pace);
        await load.WaitForAcceptedAsync(Before, Deadline);
        return load;
    }

    private static async Task WaitReadyAsync(bool ready, string what, IEnumerable<int> httpPorts)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Wait.UntilAsync(
            async () =>
            {
                foreach (var port in httpPorts)
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"));
                    if (response.IsSuccessStatusCode != ready) return false;
                }

                return true;
            },
            Deadline,
            what);
    }

    /// <summary>Two in-process replicas on one database and Redis, behind nginx, with the load already running.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private Rig(Replica a, Replica b, NginxServer nginx, ChatLoad load) => (A, B, Nginx, Load) = (a, b, nginx, load);

        public Replica A { get; }

        public Replica B { get; }

        public NginxServer Nginx { get; }

        public ChatLoad Load { get; }

        public int[] HttpPorts => [A.HttpPort, B.HttpPort];

        public static async Task<Rig> StartAsync(TestDatabase database, RedisServer redis)
        {
            var settings = new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = redis.ConnectionString, ["Chat:PresenceTtl"] = "00:00:03" };
            var started = new List<IAsyncDisposable>();
            try
            {
                var a = await Replica.StartAsync(database, settings);
                started.Add(a);
                var b = await Replica.StartAsync(database, settings);
                started.Add(b);
                var nginx = await NginxServer.StartNewAsync([a.ChatPort, b.ChatPort]);
                started.Add(nginx);
                return new Rig(a, b, nginx, await StartLoadAsync(nginx.Port));
            }
            catch
            {
                foreach (var part in Enumerable.Reverse(started)) await part.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Load.DisposeAsync();
            await Nginx.DisposeAsync();
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
    }
}
