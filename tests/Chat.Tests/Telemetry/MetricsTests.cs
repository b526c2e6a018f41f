using System.Text;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Telemetry;

/// <summary>Real traffic through one in-process replica moves its own instruments, with the right tags.</summary>
public sealed class MetricsTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Logins_frames_errors_and_the_store_are_counted()
    {
        using var metrics = new MetricCapture(fixture.Replica.Services);
        var port = fixture.Replica.ChatPort;
        await using var alice = await TestClient.LoggedInAsync(port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(port, TestClient.Unique("bob"));
        await using var mallory = await TestClient.ConnectAsync(port);

        Assert.Equal(1, (int)(await mallory.LoginAsync(alice.Id, "not-the-password"))["errno"]!);
        await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "hello", cid = "m1" });
        await alice.ReceiveAsync(11);
        await bob.ReceiveAsync(6);
        await mallory.SendRawAsync(Encoding.UTF8.GetBytes("{not json\n"));
        Assert.Equal(4, (int)(await mallory.ReceiveAsync(12))["errno"]!);

        await Wait.UntilAsync(
            () => Task.FromResult(metrics.Sum("chat.frames.sent", "msgid", 6) == 1 && metrics.Count("chat.store.commit.duration") >= 1),
            Deadline,
            "the delivery and the commit to be recorded");
        Assert.Equal(3, metrics.Sum("chat.connections"));
        Assert.Equal(2, metrics.Sum("chat.logins", "outcome", "ok"));
        Assert.Equal(1, metrics.Sum("chat.logins", "outcome", "invalid"));
        Assert.Equal(2, metrics.Sum("chat.frames.received", "msgid", 4));
        Assert.Equal(3, metrics.Sum("chat.frames.received", "msgid", 1));
        Assert.Equal(1, metrics.Sum("chat.frames.received", "msgid", 6));
        Assert.Equal(1, metrics.Sum("chat.frames.received", "msgid", "other"));
        Assert.Equal(3, metrics.Sum("chat.frames.sent", "msgid", 2));
        Assert.Equal(1, metrics.Sum("chat.frames.sent", "msgid", 11));
        Assert.Equal(1, metrics.Sum("chat.frames.sent", "msgid", 12));
        Assert.Equal(1, metrics.Sum("chat.errors", "errno", 4));
        Assert.Equal(1, metrics.Sum("chat.messages.stored"));
        Assert.Equal(1, metrics.Sum("chat.store.batch.size"));
        Assert.All(metrics.Matching("chat.store.commit.duration"), m => Assert.InRange(m.Value, 0, Deadline.TotalMilliseconds));
        Assert.Equal("Chat.Store", metrics.Matching("chat.store.batch.size").First().Meter);

        metrics.Observe();
        Assert.Equal(0, Assert.Single(metrics.Matching("chat.store.queue.depth")).Value);

        await mallory.DisposeAsync();
        await Wait.UntilAsync(() => Task.FromResult(metrics.Sum("chat.connections") == 2), Deadline, "the closed connection to be counted");
    }

    [Fact]
    public async Task A_client_that_does_not_read_is_counted_as_a_slow_consumer()
    {
        await using var replica = await Replica.StartAsync(fixture.Database, new Dictionary<string, string?> { ["Chat:OutboundQueueBytes"] = "16384", ["Chat:MaxMessageChars"] = "60000" });
        using var metrics = new MetricCapture(replica.Services);
        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));

        // Bob never reads: once the sockets' buffers are full, his queue of 16 fills and he is dropped.
        var text = new string('x', 60_000);
        var sent = 0;
        await Wait.UntilAsync(
            async () =>
            {
                for (var i = 0; i < 20; i++, sent++)
                {
                    await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = text, cid = "s" + sent });
                    await alice.ReceiveAsync(11);
                }

                return metrics.Sum("chat.slow_consumer.disconnects") > 0;
            },
            TimeSpan.FromSeconds(60),
            "bob to be dropped as a slow consumer");

        Assert.Equal(1, metrics.Sum("chat.slow_consumer.disconnects"));
        Assert.True(metrics.Sum("chat.outbound.dropped") >= 1);
    }
}
