using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Chat.Client;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Xunit.Abstractions;

namespace Chat.Tests.Cluster;

/// <summary>
/// The storm after a crash: a replica holding 1,000 logged-in users is SIGKILLed and every one of them reconnects through
/// nginx at once (jittered exponential backoff from 100 ms, as Chat.Client does), while one message is sent to each of
/// them and a pair on the surviving replica keeps chatting (from a process of its own, as a user's client is). The presence TTL is the default 30 s: only the dead
/// replica's liveness key going away lets its users back in sooner. Each user comes from an address of its own, as real
/// users do (nginx tells the replicas with the PROXY protocol), so the per-address caps of nginx and the replicas and
/// the anonymous-connection cap all stand at their defaults.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class LoginStormTests(ITestOutputHelper output)
{
    private const int Users = 1000;
    private static readonly TimeSpan BackWithin = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_killed_replicas_thousand_users_come_back_through_nginx_and_get_every_message_while_survivors_chat(bool tokens)
    {
        var database = await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync(tokens ? "storm_tokens" : "storm_passwords");
        await using var redis = await RedisServer.StartNewAsync();
        var behindNginx = new Dictionary<string, string> { ["Chat:TrustedProxies:0"] = "127.0.0.1" };
        await using var doomed = await ReplicaProcess.StartAsync(database, redis.ConnectionString, behindNginx);
        await using var survivor = await ReplicaProcess.StartAsync(database, redis.ConnectionString, behindNginx);
        await using var nginx = await NginxServer.StartNewAsync([doomed.ChatPort, survivor.ChatPort], proxyProtocol: true);

        var users = await RegisterAsync(survivor.ChatPort);
        var sessions = await LogInAsync(doomed.ChatPort, users);
        await using var carol = await TestClient.LoggedInAsync(survivor.ChatPort, TestClient.Unique("carol"));

        var window = tokens ? BackWithin - TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(15);
        using var probing = await ProbeAsync(survivor.ChatPort, window);
        doomed.KillHard();
        var clock = Stopwatch.StartNew();
        var refusals = new ConcurrentDictionary<string, int>();
        var returning = sessions.Select(s => ReturnAsync(s, nginx.Port, tokens, clock, refusals)).ToList();

        // One message to each of them while they are away (or already back): each must reach its user.
        for (var i = 0; i < Users; i++)
        {
            await carol.SendAsync(new OneChatRequest(users[i].Id, "while away " + i) { Cid = Cid.From(i.ToString(CultureInfo.InvariantCulture)) });
        }

        for (var i = 0; i < Users; i++)
        {
            Assert.Equal(0, (int)(await carol.ReceiveAsync(11))["errno"]!);
        }

        var back = await Task.WhenAll(returning);
        var allBack = clock.Elapsed;
        await probing.WaitForExitAsync(window + GiveUp, killOnTimeout: true);
        Assert.True(probing.ExitCode == 0, probing.Output);
        var probe = JsonNode.Parse(probing.Output.Split('\n').Last(l => l.StartsWith('{')))!.AsObject();

        var times = back.Select(b => b.TotalMilliseconds).Order().ToList();
        var refused = string.Join(", ", refusals.OrderBy(r => r.Key).Select(r => $"{r.Key} × {r.Value}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(tokens ? "tokens" : "passwords")}: {Users} users back, the last {allBack.TotalSeconds:0.0} s after the kill (median {times[Users / 2] / 1000:0.0} s, p99 {times[Users * 99 / 100] / 1000:0.0} s); refusals meanwhile: {refused}; probe pair on the survivor, in a process of its own ({probe["samples"]} messages): p50 {probe["p50Ms"]} ms, p99 {probe["p99Ms"]} ms, max {probe["maxMs"]} ms; load average {File.ReadAllText("/proc/loadavg").Trim()}"));

        // A user's client is a process of its own: the probe pair is measured there, not in this process, whose thread
        // pool the 1,000 returning clients fill during the storm (2026-12-08: a probe in this process waited p99 65–90 ms
        // and up to 0.7–1.2 s in token storms; the pair in its own process p99 22–31 ms, at most 0.05–0.64 s, the worst
        // as the storm begins). Starved would be seconds (queued behind the storm's password work until it ends): the
        // flood test's bound holds.
        Assert.True((int)probe["lost"]! == 0 && (int)probe["disconnected"]! == 0 && (int)probe["samples"]! > 0, probe.ToJsonString());
        Assert.True((double)probe["p99Ms"]! <= 250, $"the probe pair waited p99 {probe["p99Ms"]} ms during the storm");
        Assert.True((double)probe["maxMs"]! <= 2_000, $"the probe pair waited {probe["maxMs"]} ms once during the storm");
        if (tokens)
        {
            Assert.True(times[^1] <= BackWithin.TotalMilliseconds, $"the last user was back {times[^1] / 1000:0.0} s after the kill");
        }
    }

    private static async Task<(int Id, string Password)[]> RegisterAsync(int port)
    {
        var prefix = "s" + Guid.NewGuid().ToString("N")[..10];
        var users = new (int Id, string Password)[Users];
        const int connections = 8;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            await using var setup = await TestClient.ConnectAsync(port);
            for (var i = c; i < Users; i += connections)
            {
                var password = $"pw-{prefix}-{i}";
                users[i] = (await setup.RegisterAsync($"{prefix}-{i}", password), password);
            }
        }));
        return users;
    }

    /// <summary>Every user logged in (v2, so with a token) on <paramref name="port"/>, a few logins at a time.</summary>
    private static async Task<Session[]> LogInAsync(int port, (int Id, string Password)[] users)
    {
        var sessions = new Session[Users];
        using var gate = new SemaphoreSlim(16);
        await Task.WhenAll(users.Select(async (user, i) =>
        {
            await gate.WaitAsync();
            try
            {
                var client = await TestClient.ConnectAsync(port, UserAddress(i));
                var ack = await client.LoginAsync(user.Id, user.Password, v: 2);
                Assert.Equal(0, (int)ack["errno"]!);
                sessions[i] = new Session(user.Id, user.Password, (string)ack["token"]!, "while away " + i, client, UserAddress(i));
            }
            finally
            {
                gate.Release();
            }
        }));
        return sessions;
    }

    /// <summary>One user: sees the connection die, comes back through nginx, and gets the message sent meanwhile.</summary>
    private static async Task<TimeSpan> ReturnAsync(Session session, int port, bool tokens, Stopwatch clock, ConcurrentDictionary<string, int> refusals)
    {
        Assert.Null(await session.Old.ReceiveOrCloseAsync(TimeSpan.FromSeconds(30)));
        await session.Old.DisposeAsync();
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            Assert.True(clock.Elapsed < GiveUp, $"user {session.Id} not back after {GiveUp}; refusals so far: {string.Join(", ", refusals.Select(r => $"{r.Key} × {r.Value}"))}");
            TestClient? client = null;
            try
            {
                client = await TestClient.ConnectAsync(port, session.Address);
                var request = tokens ? new LoginRequest(session.Id, null, Version: 2) { Token = session.Token } : new LoginRequest(session.Id, session.Password, Version: 2);
                var ack = await client.RequestAsync(request);
                var errno = (int)ack["errno"]!;
                if (errno == 0)
                {
                    var back = clock.Elapsed;
                    await using (client)
                    {
                        await ReceiveMessageAsync(client, ack, session.Expected);
                    }

                    return back;
                }

                refusals.AddOrUpdate($"errno {errno}", 1, (_, n) => n + 1);
            }
            catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or InvalidOperationException)
            {
                refusals.AddOrUpdate(ex.GetType().Name + ": " + ex.Message, 1, (_, n) => n + 1);
            }

            if (client is not null)
            {
                await client.DisposeAsync();
            }

            await Task.Delay(Backoff.Jittered(delay));
            delay = Backoff.Longer(delay, TimeSpan.FromSeconds(2));
        }
    }

    /// <summary>The message sent while the user was away: in LOGIN_ACK, or live right after it.</summary>
    private static async Task ReceiveMessageAsync(TestClient client, JsonObject ack, string expected)
    {
        if (ack["offlinemsg"]?.AsArray().Any(m => (string?)m!["msg"] == expected) == true)
        {
            return;
        }

        var frame = await client.ReceiveAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(expected, (string?)frame["msg"]);
    }

    /// <summary>
    /// A pair of users on <paramref name="port"/> chatting one message at a time for <paramref name="window"/> from a
    /// process of their own (Chat.Bench pingpong, its JSON result last in its output): started, and logged in (before
    /// the storm, as users already there are) when this returns.
    /// </summary>
    private static async Task<ChildProcess> ProbeAsync(int port, TimeSpan window)
    {
        var probe = ChildProcess.StartBuilt(
            "Chat.Bench.dll",
            ["pingpong", "--endpoints", $"127.0.0.1:{port}", "--pairs", "1",
                "--seconds", window.TotalSeconds.ToString(CultureInfo.InvariantCulture), "--warmup", "0", "--json"]);
        await Wait.UntilAsync(
            () => probe.HasExited || probe.Output.Contains("users registered and logged in", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the probe pair logged in");
        return probe;
    }

    /// <summary>User <paramref name="i"/>'s own loopback address: 127.0.3.1 on, 250 to a /24.</summary>
    private static IPAddress UserAddress(int i) => new([127, 0, (byte)(3 + i / 250), (byte)(1 + i % 250)]);

    private sealed record Session(int Id, string Password, string Token, string Expected, TestClient Old, IPAddress Address);
}
