using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Xunit.Abstractions;

namespace Chat.Tests.Cluster;

/// <summary>
/// Two replicas on a three-node Galera cluster (their connection string names all three, in failover order, so they
/// write to the first). The node being written to is killed (SIGKILL) or stopped (SIGTERM) under load, from v2 senders with cids and seed
/// senders without, on both replicas; it is brought back while the load runs and rejoins.
/// </summary>
public sealed class GaleraFailoverTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <param name="how"><c>kill</c>: SIGKILL, as a crash; <c>stop</c>: SIGTERM, a clean shutdown (a rolling restart).</param>
    [Theory]
    [InlineData("kill")]
    [InlineData("stop")]
    public async Task Losing_the_node_written_to_loses_nothing_acked_stores_nothing_twice_and_sends_resume_within_5_s(string how)
    {
        var galera = await GaleraCluster.StartedAsync();
        var database = await galera.CreateDatabaseAsync("galera_" + how);
        await using var redis = await RedisServer.StartNewAsync();
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = redis.ConnectionString };
        var logs = new CapturedLogs();
        await using var a = await Replica.StartAsync(database, settings, logs.AddTo);
        await using var b = await Replica.StartAsync(database, settings, logs.AddTo);

        // Each sender on one replica, its recipient on the other.
        var senders = new List<Sender>();
        foreach (var (from, to, modern) in new[] { (a, b, true), (b, a, true), (a, b, false), (b, a, false) })
        {
            var recipient = new Recipient(await TestClient.LoggedInAsync(to.ChatPort, TestClient.Unique("to"), v: 2));
            senders.Add(new Sender(await TestClient.LoggedInAsync(from.ChatPort, TestClient.Unique("from"), v: modern ? 2 : 0), recipient, modern));
        }

        using var stop = new CancellationTokenSource();
        var loops = senders.SelectMany(s => new[] { s.RunAsync(stop.Token), s.Recipient.RunAsync(stop.Token) }).ToList();
        var modernSenders = senders.Where(s => s.Modern).ToList();
        await Wait.UntilAsync(() => modernSenders.All(s => s.Acked.Count >= 20), Deadline, "load running: 20 ACKs per v2 sender");

        // Measured from the moment the node is gone: the SIGKILL, or the end of the clean shutdown (the node serves
        // until it has closed its connections).
        if (how == "kill")
        {
            galera.Kill(0);
        }
        else
        {
            await galera.StopAsync(0);
        }

        var killedAt = Stopwatch.GetTimestamp();

        await Wait.UntilAsync(() => modernSenders.All(s => s.LastAckAt > killedAt), Deadline, "every v2 sender served again after the kill");
        var resumed = TimeSpan.FromTicks(modernSenders.Max(s => Stopwatch.GetElapsedTime(killedAt, s.FirstAckAfter(killedAt))).Ticks);
        output.WriteLine($"node 0 {how}: every v2 sender ACKed again within {resumed.TotalMilliseconds:F0} ms; refused meanwhile: {senders.Sum(s => s.Refused)}");

        var rejoining = Stopwatch.StartNew();
        await galera.StartNodeAsync(0);
        await Wait.UntilAsync(() => galera.SyncedAsync(0), Deadline, "node 0 synced in a cluster of 3 again");
        output.WriteLine($"node 0 rejoined under load in {rejoining.Elapsed.TotalSeconds:F1} s");
        var afterRejoin = modernSenders.Select(s => s.Acked.Count).ToList();
        await Wait.UntilAsync(() => modernSenders.Select((s, i) => s.Acked.Count >= afterRejoin[i] + 20).All(x => x), Deadline, "load served after the rejoin");

        await stop.CancelAsync();
        await Task.WhenAll(senders.Select(s => s.Stopped));
        foreach (var sender in senders)
        {
            await Wait.UntilAsync(
                () => sender.Modern ? sender.Acked.All(sender.Recipient.Bodies.ContainsKey) : sender.Recipient.Bodies.Count + sender.Errors >= sender.Sent,
                Deadline,
                $"{(sender.Modern ? "v2" : "seed")} sender {sender.Client.Id}: every accepted message delivered");
        }

        await stop.CancelAsync();
        foreach (var sender in senders)
        {
            var rows = await database.ScalarAsync("SELECT COUNT(*) FROM messages WHERE sender_id = @p0", sender.Client.Id);
            var distinct = await database.ScalarAsync("SELECT COUNT(DISTINCT body) FROM messages WHERE sender_id = @p0", sender.Client.Id);
            output.WriteLine($"{(sender.Modern ? "v2" : "seed")} sender {sender.Client.Id}: sent {sender.Sent}, acked {sender.Acked.Count}, refused {sender.Refused + sender.Errors}, rows {rows}, delivered {sender.Recipient.Bodies.Count}, delivered twice {sender.Recipient.Twice}");
            Assert.Equal(distinct, rows); // nothing stored twice
            Assert.Equal(0, sender.Recipient.Twice); // nothing delivered twice
            Assert.Equal(rows, sender.Recipient.Bodies.Count); // everything stored was delivered live
            if (sender.Modern)
            {
                Assert.All(sender.Acked, cid => Assert.True(sender.Recipient.Bodies.ContainsKey(cid), $"{cid} ACKed but not delivered"));
            }
            else
            {
                Assert.Equal(sender.Sent - sender.Errors, rows); // a message was either refused with an ERROR or stored once
            }
        }

        foreach (var entry in logs.Entries.Where(e => e.Category.StartsWith("Chat.", StringComparison.Ordinal) && e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning))
        {
            output.WriteLine(entry.ToString().Split('\n')[0]);
        }

        Assert.True(resumed < TimeSpan.FromSeconds(5), $"sends were served again {resumed} after the kill");
        await Task.WhenAll(loops).WaitAsync(Deadline);
    }

    /// <summary>Sends a message every 10 ms: a v2 sender waits for each ACK, a seed sender does not (its failures come as ERROR frames).</summary>
    private sealed class Sender(TestClient client, Recipient recipient, bool modern)
    {
        private readonly ConcurrentQueue<long> _ackTimes = new();
        private long _lastAckAt;
        private int _errors;

        public TestClient Client { get; } = client;

        public Recipient Recipient { get; } = recipient;

        public bool Modern { get; } = modern;

        public ConcurrentBag<string> Acked { get; } = [];

        public int Sent { get; private set; }

        public int Refused { get; private set; }

        public int Errors => Volatile.Read(ref _errors);

        public long LastAckAt => Volatile.Read(ref _lastAckAt);

        public Task Stopped { get; private set; } = Task.CompletedTask;

        public long FirstAckAfter(long timestamp) => _ackTimes.First(t => t > timestamp);

        public Task RunAsync(CancellationToken stop)
        {
            Stopped = Modern ? SendWithAcksAsync(stop) : SendBlindAsync(stop);
            return Stopped;
        }

        private async Task SendWithAcksAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                var cid = $"{Client.Id}-{Sent}";
                await Client.SendAsync(new { msgid = 6, toid = Recipient.Client.Id, msg = cid, cid });
                Sent++;
                var ack = await Client.ReceiveAsync(11);
                if ((int)ack["errno"]! == 0)
                {
                    Acked.Add(cid);
                    var now = Stopwatch.GetTimestamp();
                    _ackTimes.Enqueue(now);
                    Volatile.Write(ref _lastAckAt, now);
                }
                else
                {
                    Refused++;
                }

                await Task.Delay(10, CancellationToken.None);
            }
        }

        private async Task SendBlindAsync(CancellationToken stop)
        {
            var errors = Task.Run(async () =>
            {
                while (await Client.ReceiveOrCloseAsync(TimeSpan.FromMinutes(3)) is { } frame)
                {
                    if ((int?)frame["errno"] is > 0)
                    {
                        Interlocked.Increment(ref _errors);
                    }
                }
            }, CancellationToken.None);
            while (!stop.IsCancellationRequested)
            {
                await Client.SendAsync(new { msgid = 6, toid = Recipient.Client.Id, msg = $"{Client.Id}-{Sent}" });
                Sent++;
                await Task.Delay(10, CancellationToken.None);
            }

            _ = errors;
        }
    }

    /// <summary>Collects what a recipient is delivered live: each body once, and how many came twice.</summary>
    private sealed class Recipient(TestClient client)
    {
        public TestClient Client { get; } = client;

        public ConcurrentDictionary<string, long> Bodies { get; } = new();

        public int Twice { get; private set; }

        public async Task RunAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested || !Bodies.IsEmpty)
            {
                JsonObject? frame;
                try
                {
                    frame = await Client.ReceiveOrCloseAsync(TimeSpan.FromSeconds(2));
                }
                catch (TimeoutException)
                {
                    if (stop.IsCancellationRequested)
                    {
                        return;
                    }

                    continue;
                }

                if (frame is null)
                {
                    return;
                }

                if ((int)frame["msgid"]! == 6 && !Bodies.TryAdd((string)frame["msg"]!, (long)frame["seq"]!))
                {
                    Twice++;
                }
            }
        }
    }
}
