using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chat.Server;
using Chat.Server.Hosting;
using Chat.Server.Telemetry;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Telemetry;

/// <summary>
/// Across two replicas and Redis: the delivery on the receiving replica is a span of the sender's trace, and the bus
/// instruments move. The activity listener hears every replica in the process, so spans are picked by replica and user.
/// </summary>
public sealed class ClusterTelemetryTests : IClassFixture<ClusterFixture>, IDisposable
{
    private readonly ClusterFixture _cluster;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public ClusterTelemetryTests(ClusterFixture cluster)
    {
        _cluster = cluster;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ChatTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    private string ReplicaA => ReplicaId(_cluster.A);

    private string ReplicaB => ReplicaId(_cluster.B);

    [Fact]
    public async Task A_chat_from_replica_A_is_delivered_on_B_in_the_same_trace()
    {
        await using var alice = await TestClient.LoggedInAsync(_cluster.A.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(_cluster.B.ChatPort, TestClient.Unique("bob"));

        await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "traced", cid = "t1" });
        await bob.ReceiveAsync(6);

        Activity? chat = null, append = null, publish = null, deliver = null;
        await Wait.UntilAsync(
            () =>
            {
                chat = Find("ONE_CHAT", ReplicaA, ChatTelemetry.UserTag, alice.Id);
                append = chat is null ? null : _stopped.FirstOrDefault(a => a.OperationName == ChatTelemetry.StoreAppend && a.ParentSpanId == chat.SpanId);
                publish = Find(ChatTelemetry.BusPublish, ReplicaA, ChatTelemetry.TargetTag, bob.Id);
                deliver = Find(ChatTelemetry.BusDeliver, ReplicaB, ChatTelemetry.TargetTag, bob.Id);
                return Task.FromResult(chat is not null && append is not null && publish is not null && deliver is not null);
            },
            Deadline,
            "the send, append, publish and delivery spans");

        Assert.Equal(ActivityKind.Server, chat!.Kind);
        Assert.Equal(chat.TraceId, publish!.TraceId);
        Assert.Equal(chat.SpanId, publish.ParentSpanId);
        Assert.Equal(chat.TraceId, deliver!.TraceId);
        Assert.Equal(publish.SpanId, deliver.ParentSpanId);
        Assert.Equal(ActivityKind.Consumer, deliver.Kind);
        Assert.Equal(1L, deliver.GetTagItem(ChatTelemetry.SeqTag));
        Assert.Equal(1L, chat.GetTagItem(ChatTelemetry.SeqTag));
    }

    [Fact]
    public async Task A_group_chat_is_traced_to_the_other_replica()
    {
        await using var alice = await TestClient.LoggedInAsync(_cluster.A.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(_cluster.B.ChatPort, TestClient.Unique("bob"));
        var groupId = (int)(await alice.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("g"), cid = "c" }))["groupid"]!;
        await bob.RequestAsync(new { msgid = 9, groupid = groupId, cid = "j" });

        await alice.SendAsync(new { msgid = 10, groupid = groupId, msg = "traced" });
        await bob.ReceiveAsync(10);

        Activity? chat = null, deliver = null;
        await Wait.UntilAsync(
            () =>
            {
                chat = Find("GROUP_CHAT", ReplicaA, ChatTelemetry.UserTag, alice.Id);
                deliver = Find(ChatTelemetry.BusDeliver, ReplicaB, ChatTelemetry.TargetTag, groupId);
                return Task.FromResult(chat is not null && deliver is not null);
            },
            Deadline,
            "the group send and its delivery on B");
        Assert.Equal(chat!.TraceId, deliver!.TraceId);
    }

    [Fact]
    public async Task Bus_latency_presence_refreshes_and_redis_stats_are_reported()
    {
        using var onA = new MetricCapture(_cluster.A.Services);
        using var onB = new MetricCapture(_cluster.B.Services);
        await using var alice = await TestClient.LoggedInAsync(_cluster.A.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(_cluster.B.ChatPort, TestClient.Unique("bob"));

        await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "measured" });
        await bob.ReceiveAsync(6);

        await Wait.UntilAsync(
            () => Task.FromResult(
                onA.Count("chat.bus.publish.duration") >= 1 &&
                onB.Count("chat.bus.delivery.latency") >= 1 &&
                onA.Count("chat.presence.refreshes", "outcome", "ok") >= 1 &&
                onB.Count("chat.presence.refreshes", "outcome", "ok") >= 1),
            Deadline,
            "publish, delivery and presence refresh measurements");
        Assert.All(onB.Matching("chat.bus.delivery.latency"), m => Assert.InRange(m.Value, 0, Deadline.TotalMilliseconds));
        Assert.Equal(0, onA.Count("chat.presence.refreshes", "outcome", "failed"));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var stats = (await http.GetFromJsonAsync<JsonObject>(new Uri($"http://127.0.0.1:{_cluster.B.HttpPort}/stats")))!;
        Assert.Equal(ReplicaB, (string)stats["replica"]!);
        Assert.Equal("connected", (string)stats["redis"]!["state"]!);
        Assert.True((int)stats["redis"]!["subscriptions"]! >= 1, stats.ToJsonString());
    }

    public void Dispose() => _listener.Dispose();

    private static string ReplicaId(Replica replica) =>
        replica.Services.GetRequiredService<IOptions<ChatServerOptions>>().Value.ReplicaId;

    private Activity? Find(string name, string replica, string tag, int id) => _stopped.FirstOrDefault(a =>
        a.OperationName == name &&
        (string?)a.GetTagItem(ChatTelemetry.ReplicaTag) == replica &&
        Equals(a.GetTagItem(tag), id));
}
