using System.Text.Json.Nodes;
using Chat.Protocol;
using Chat.Tests.Integration;

namespace Chat.Tests.Cluster;

/// <summary>
/// "The conversation is a log": every session receives one conversation's entries in seq order, never twice, whether
/// sender and recipient share a replica or not, direct or through nginx, on one Redis and on a Redis Cluster (the two
/// classes below). A fast sender (every message pipelined, nothing awaited between them) makes the bus's own ordering
/// show: before the fix about 3.5% of them arrived inverted on the other replica.
/// </summary>
public abstract class OrderTests(ClusterFixture cluster)
{
    private const int Messages = 2_000;

    [Fact]
    public async Task A_fast_senders_messages_reach_a_recipient_on_the_other_replica_in_seq_order_each_once()
    {
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("alice"), v: 2);
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"), v: 2);

        await AssertInOrderAsync(alice, bob, Messages, i => new OneChatRequest(bob.Id, "m" + i) { Cid = Cid.From("c" + i) });
    }

    [Fact]
    public async Task Through_nginx_a_fast_senders_messages_arrive_in_seq_order_each_once()
    {
        await using var alice = await Devices.LoggedInThroughNginxOnAsync(cluster, cluster.A, "alice", v: 2);
        await using var bob = await Devices.LoggedInThroughNginxOnAsync(cluster, cluster.B, "bob", v: 0); // a seed session too

        await AssertInOrderAsync(alice, bob, Messages, i => new OneChatRequest(bob.Id, "m" + i) { Cid = Cid.From("c" + i) });
    }

    /// <summary>
    /// Two senders on two replicas write into one group at once: its seqs are handed out by the store in an order
    /// neither replica's bus sees whole, so each member's replica must release them in seq order itself.
    /// </summary>
    [Fact]
    public async Task Group_messages_from_senders_on_both_replicas_reach_every_member_in_seq_order_each_once()
    {
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("alice"), v: 2);
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"), v: 2);
        await using var carol = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("carol"), v: 2);
        await using var dave = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("dave"), v: 0);
        var groupId = (int)(await Devices.AckedAsync(alice, new CreateGroupRequest(TestClient.Unique("order"), "") { Cid = Cid.From("g") }))["groupid"]!;
        await Devices.JoinInTurnAsync(groupId, [alice], bob, carol, dave);

        const int each = Messages / 2;
        var reading = Task.WhenAll(
            ReadAsync(alice, acks: each, chats: each), ReadAsync(bob, acks: each, chats: each), ReadAsync(carol, 0, 2 * each), ReadAsync(dave, 0, 2 * each));
        await Task.WhenAll(
            SendAllAsync(alice, each, i => new GroupChatRequest(groupId, "a" + i) { Cid = Cid.From("a" + i) }),
            SendAllAsync(bob, each, i => new GroupChatRequest(groupId, "b" + i) { Cid = Cid.From("b" + i) }));
        var read = await reading;
        var (a, b, c, d) = (read[0], read[1], read[2], read[3]);

        var all = a.Acked.Concat(b.Acked).Order().ToList();
        Assert.Equal(Enumerable.Range(1, 2 * each).Select(i => (long)i), all); // the store numbered them gaplessly
        foreach (var seqs in new[] { a.Chats, b.Chats, c.Chats, d.Chats })
        {
            AssertAscending(seqs);
        }

        // Carol and dave get all of them; alice and bob each the other's (their own come as ACKs).
        Assert.Equal(all, c.Chats);
        Assert.Equal(all, d.Chats);
        Assert.Equal(b.Acked.Order(), a.Chats);
        Assert.Equal(a.Acked.Order(), b.Chats);
    }

    private static async Task AssertInOrderAsync(TestClient sender, TestClient recipient, int count, Func<int, Request> request)
    {
        var acks = ReadAsync(sender, acks: count, chats: 0);
        var received = ReadAsync(recipient, acks: 0, chats: count);
        await SendAllAsync(sender, count, request);
        var (seqs, acked) = ((await received).Chats, (await acks).Acked);

        AssertAscending(seqs);
        Assert.Equal(acked.Order(), seqs);
        await recipient.AssertNothingPendingAsync();
    }

    /// <summary>Sends every request without waiting for its answer.</summary>
    private static async Task SendAllAsync(TestClient sender, int count, Func<int, Request> request)
    {
        for (var i = 0; i < count; i++)
        {
            await sender.SendAsync(request(i));
        }
    }

    /// <summary>
    /// Reads until <paramref name="acks"/> ACKs and <paramref name="chats"/> chat frames came: the seqs each carried, in
    /// arrival order (anything else fails the test).
    /// </summary>
    private static async Task<(List<long> Acked, List<long> Chats)> ReadAsync(TestClient client, int acks, int chats)
    {
        var (acked, received) = (new List<long>(acks), new List<long>(chats));
        while (acked.Count < acks || received.Count < chats)
        {
            JsonObject frame = await client.ReceiveAsync();
            var msgid = (int)frame["msgid"]!;
            Assert.True(msgid is 6 or 10 || (msgid == 11 && (int)frame["errno"]! == 0), frame.ToJsonString());
            (msgid == 11 ? acked : received).Add((long)frame["seq"]!);
        }

        return (acked, received);
    }

    private static void AssertAscending(List<long> seqs)
    {
        var inversions = seqs.Zip(seqs.Skip(1)).Count(p => p.Second <= p.First);
        Assert.True(inversions == 0, $"{inversions} of {seqs.Count} arrived out of seq order or twice");
    }
}

public sealed class OneRedisOrderTests(ClusterFixture cluster) : OrderTests(cluster), IClassFixture<ClusterFixture>;

public sealed class RedisClusterOrderTests(RedisClusterFixture cluster) : OrderTests(cluster), IClassFixture<RedisClusterFixture>;
