using System.Text.Json.Nodes;
using Chat.Protocol;
using Chat.Server.Hub;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Cluster;

/// <summary>Places connections through nginx on a chosen replica, and sets up the people a device test needs.</summary>
public static class Devices
{
    /// <summary>
    /// Connects through nginx until a connection lands on <paramref name="target"/> — proven by a throwaway user's
    /// session there, logged out again — so the connection is anonymous and known to be on that replica. Misses stay
    /// open meanwhile, so nginx's least_conn sends the next connection to the other replica.
    /// </summary>
    public static async Task<TestClient> ThroughNginxOnAsync(ClusterFixture cluster, Replica target)
    {
        var hub = target.Services.GetRequiredService<ChatHub>();
        var misses = new List<TestClient>();
        try
        {
            for (var attempt = 0; attempt < 8; attempt++)
            {
                var client = await TestClient.ConnectAsync(cluster.Nginx.Port);
                var name = TestClient.Unique("probe");
                var id = await client.RegisterAsync(name, "pw-" + name);
                Assert.Equal(0, (int)(await client.LoginAsync(id, "pw-" + name))["errno"]!);
                var landed = hub.Find(id) is not null;
                Assert.Equal(0, (int)(await client.RequestAsync(new LogoutRequest { Cid = Cid.From("probe") }))["errno"]!);
                if (landed)
                {
                    return client;
                }

                misses.Add(client);
            }

            throw new InvalidOperationException("nginx never sent a connection to the wanted replica");
        }
        finally
        {
            foreach (var miss in misses)
            {
                await miss.DisposeAsync();
            }
        }
    }

    /// <summary>A fresh user logged in through nginx on <paramref name="target"/>.</summary>
    public static async Task<TestClient> LoggedInThroughNginxOnAsync(ClusterFixture cluster, Replica target, string prefix, int v)
    {
        var client = await ThroughNginxOnAsync(cluster, target);
        var name = TestClient.Unique(prefix);
        Assert.Equal(0, (int)(await client.LoginAsync(await client.RegisterAsync(name, "pw-" + name), "pw-" + name, v))["errno"]!);
        return client;
    }

    /// <summary>Registers a user and returns its id.</summary>
    public static async Task<int> RegisterAsync(int port, string name)
    {
        await using var client = await TestClient.ConnectAsync(port);
        return await client.RegisterAsync(name, "pw-" + name);
    }

    /// <summary>A user logged in on <paramref name="port"/> whose friend list holds <paramref name="friendId"/>.</summary>
    public static async Task<TestClient> WatcherAsync(int port, string prefix, int friendId, int v)
    {
        var client = await TestClient.LoggedInAsync(port, TestClient.Unique(prefix), v);
        Assert.Equal(0, (int)(await client.RequestAsync(new AddFriendRequest(friendId) { Cid = Cid.From("f") }))["errno"]!);
        return client;
    }

    public static async Task<JsonObject> AckedAsync(TestClient client, Request request)
    {
        var ack = await client.RequestAsync(request);
        Assert.True((int)ack["msgid"]! == 11 && (int)ack["errno"]! == 0, ack.ToJsonString());
        return ack;
    }

    /// <summary>
    /// <paramref name="joining"/> join group <paramref name="groupId"/> one after another; every v2 session already in it
    /// (<paramref name="members"/>, then the earlier newcomers) sees each newcomer's ADD_GROUP push. Seed sessions get none.
    /// </summary>
    public static async Task JoinInTurnAsync(int groupId, IEnumerable<TestClient> members, params TestClient[] joining)
    {
        var inGroup = members.ToList();
        foreach (var member in joining)
        {
            await AckedAsync(member, new JoinGroupRequest(groupId) { Cid = Cid.From("j") });
            foreach (var earlier in inGroup.Where(m => m.Version >= 2))
            {
                var joined = await earlier.ReceiveAsync(9);
                Assert.Equal(
                    (groupId, member.Id, member.Name, "online", "normal"),
                    ((int)joined["groupid"]!, (int)joined["id"]!, (string)joined["name"]!, (string)joined["state"]!, (string)joined["role"]!));
            }

            inGroup.Add(member);
        }
    }

    /// <summary>
    /// The next frame says <paramref name="userId"/> is out of the group: LEAVE_GROUP (21), passing the creator's role to
    /// <paramref name="creator"/> if any, or REMOVE_MEMBER (22) by <paramref name="by"/>.
    /// </summary>
    public static async Task ExpectGoneAsync(TestClient client, int groupId, int userId, int? by = null, int? creator = null)
    {
        var gone = await client.ReceiveAsync(by is null ? 21 : 22);
        Assert.Equal((groupId, userId, by, creator), ((int)gone["groupid"]!, (int)gone["userid"]!, (int?)gone["by"], (int?)gone["creator"]));
    }

    /// <summary>The next frame is PRESENCE for <paramref name="userId"/> in <paramref name="state"/>.</summary>
    public static async Task ExpectPresenceAsync(TestClient client, int userId, string state)
    {
        var push = await client.ReceiveAsync(20);
        Assert.Equal((userId, state), ((int)push["id"]!, (string)push["state"]!));
    }

    /// <summary>The connection gets ERROR errno 12, then is closed.</summary>
    public static async Task ExpectReplacedAsync(TestClient client)
    {
        var error = await client.ReceiveAsync(12);
        Assert.Equal(12, (int)error["errno"]!);
        Assert.Null(await client.ReceiveOrCloseAsync());
    }
}

public sealed class RejectDevicesTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task A_second_device_on_the_other_replica_through_nginx_is_refused_with_errno_2_and_the_first_keeps_working()
    {
        var name = TestClient.Unique("una");
        var una = await Devices.RegisterAsync(cluster.A.ChatPort, name);
        await using var phone = await Devices.ThroughNginxOnAsync(cluster, cluster.A);
        Assert.Equal(0, (int)(await phone.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await using var laptop = await Devices.ThroughNginxOnAsync(cluster, cluster.B);

        Assert.Equal(2, (int)(await laptop.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);

        await using var fay = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("fay"));
        await Devices.AckedAsync(fay, new OneChatRequest(una, "still here?") { Cid = Cid.From("m") });
        Assert.Equal("still here?", (string)(await phone.ReceiveAsync(6))["msg"]!);
        await laptop.AssertNothingPendingAsync();
    }
}

public sealed class AllowDevicesTests(AllowDevicesClusterFixture cluster) : IClassFixture<AllowDevicesClusterFixture>
{
    [Fact]
    public async Task Sessions_on_both_replicas_each_get_every_message_see_what_the_others_send_and_presence_spans_them_all()
    {
        var name = TestClient.Unique("una");
        int groupId;
        int una;
        await using (var setup = await TestClient.LoggedInAsync(cluster.A.ChatPort, name))
        {
            una = setup.Id;
            groupId = (int)(await Devices.AckedAsync(setup, new CreateGroupRequest(TestClient.Unique("g"), "d") { Cid = Cid.From("g") }))["groupid"]!;
            await Devices.AckedAsync(setup, new LogoutRequest { Cid = Cid.From("out") });
        }

        await using var fay = await Devices.WatcherAsync(cluster.A.ChatPort, "fay", una, v: 2);
        await using var sam = await Devices.WatcherAsync(cluster.B.ChatPort, "sam", una, v: 0); // the seed's protocol
        await Devices.JoinInTurnAsync(groupId, [], fay, sam);

        await using var phone = await Devices.ThroughNginxOnAsync(cluster, cluster.A);
        Assert.Equal(0, (int)(await phone.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await Devices.ExpectPresenceAsync(fay, una, "online");
        await using var laptop = await Devices.ThroughNginxOnAsync(cluster, cluster.B);
        Assert.Equal(0, (int)(await laptop.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await using var old = await TestClient.ConnectAsync(cluster.B.ChatPort);
        Assert.Equal(0, (int)(await old.LoginAsync(una, "pw-" + name))["errno"]!);
        await fay.AssertNothingPendingAsync(); // more sessions of an online user are no change

        // Every session gets a message to the user.
        await Devices.AckedAsync(fay, new OneChatRequest(una, "to all of you") { Cid = Cid.From("1") });
        foreach (var device in new[] { phone, laptop, old })
        {
            Assert.Equal("to all of you", (string)(await device.ReceiveAsync(6))["msg"]!);
        }

        // What one session sends, the others see; the sending one gets its ACK only.
        await Devices.AckedAsync(phone, new OneChatRequest(fay.Id, "from the phone") { Cid = Cid.From("2") });
        Assert.Equal("from the phone", (string)(await fay.ReceiveAsync(6))["msg"]!);
        foreach (var device in new[] { laptop, old })
        {
            var copy = await device.ReceiveAsync(6);
            Assert.Equal(("from the phone", una, fay.Id), ((string)copy["msg"]!, (int)copy["id"]!, (int)copy["toid"]!));
        }

        await Devices.AckedAsync(laptop, new GroupChatRequest(groupId, "from the laptop") { Cid = Cid.From("3") });
        foreach (var device in new[] { phone, old, fay, sam })
        {
            Assert.Equal("from the laptop", (string)(await device.ReceiveAsync(10))["msg"]!);
        }

        foreach (var device in new[] { phone, laptop, old })
        {
            await device.AssertNothingPendingAsync();
        }

        // Online while any session is: offline only when the last one goes.
        await Devices.AckedAsync(phone, new LogoutRequest { Cid = Cid.From("out") });
        await Devices.AckedAsync(old, new LogoutRequest { Cid = Cid.From("out") });
        await fay.AssertNothingPendingAsync();
        await Devices.AckedAsync(laptop, new LogoutRequest { Cid = Cid.From("out") });
        await Devices.ExpectPresenceAsync(fay, una, "offline");
        await sam.AssertNothingPendingAsync(); // a seed session never gets PRESENCE
    }

    [Fact]
    public async Task A_group_joined_on_one_device_is_joined_on_another_with_its_members_and_both_take_part()
    {
        var name = TestClient.Unique("una");
        var una = await Devices.RegisterAsync(cluster.A.ChatPort, name);
        await using var owner = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("owen"), v: 2);
        var groupId = (int)(await Devices.AckedAsync(owner, new CreateGroupRequest(TestClient.Unique("g"), "d") { Cid = Cid.From("g") }))["groupid"]!;
        await using var phone = await Devices.ThroughNginxOnAsync(cluster, cluster.A);
        Assert.Equal(0, (int)(await phone.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await using var laptop = await Devices.ThroughNginxOnAsync(cluster, cluster.B);
        Assert.Equal(0, (int)(await laptop.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);

        await Devices.JoinInTurnAsync(groupId, [owner], phone);
        // The laptop logged in before the phone joined: joining there too (already a member) answers with the group and
        // makes this session take part, as a new login would.
        var group = (await Devices.AckedAsync(laptop, new JoinGroupRequest(groupId) { Cid = Cid.From("j") }))["group"]!;
        Assert.Equal(new[] { owner.Id, una }.Order(), group["users"]!.AsArray().Select(u => (int)u!["id"]!).Order());

        await Devices.AckedAsync(owner, new GroupChatRequest(groupId, "to both") { Cid = Cid.From("m") });
        Assert.Equal("to both", (string)(await laptop.ReceiveAsync(10))["msg"]!);
        await Devices.AckedAsync(laptop, new GroupChatRequest(groupId, "from the laptop") { Cid = Cid.From("l") });
        Assert.Equal("from the laptop", (string)(await owner.ReceiveAsync(10))["msg"]!);
        var atPhone = new[] { (string)(await phone.ReceiveAsync(10))["msg"]!, (string)(await phone.ReceiveAsync(10))["msg"]! }; // through the bus: in either order
        Assert.Equal("from the laptop|to both", string.Join('|', atPhone.Order()));
        foreach (var client in new[] { owner, phone, laptop })
        {
            await client.AssertNothingPendingAsync(); // no join push for a member already in
        }
    }
}

public sealed class ReplaceDevicesTests(ReplaceDevicesClusterFixture cluster) : IClassFixture<ReplaceDevicesClusterFixture>
{
    [Fact]
    public async Task A_new_login_on_the_other_replica_closes_the_older_session_with_errno_12_and_the_user_stays_online()
    {
        var name = TestClient.Unique("una");
        var una = await Devices.RegisterAsync(cluster.A.ChatPort, name);
        await using var fay = await Devices.WatcherAsync(cluster.A.ChatPort, "fay", una, v: 2);
        await using var sam = await Devices.WatcherAsync(cluster.B.ChatPort, "sam", una, v: 0);

        // A seed-protocol session is replaced too: ERROR (12) is a frame type the seed knows.
        await using var seed = await Devices.ThroughNginxOnAsync(cluster, cluster.A);
        Assert.Equal(0, (int)(await seed.LoginAsync(una, "pw-" + name))["errno"]!);
        await Devices.ExpectPresenceAsync(fay, una, "online");

        await using var laptop = await Devices.ThroughNginxOnAsync(cluster, cluster.B);
        Assert.Equal(0, (int)(await laptop.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await Devices.ExpectReplacedAsync(seed);

        await using var phone = await Devices.ThroughNginxOnAsync(cluster, cluster.A);
        Assert.Equal(0, (int)(await phone.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await Devices.ExpectReplacedAsync(laptop);

        // Messages reach the newest session; friends saw no change (replacing is not going offline).
        await Devices.AckedAsync(fay, new OneChatRequest(una, "which one are you?") { Cid = Cid.From("1") });
        Assert.Equal("which one are you?", (string)(await phone.ReceiveAsync(6))["msg"]!);
        await fay.AssertNothingPendingAsync();

        await Devices.AckedAsync(phone, new LogoutRequest { Cid = Cid.From("out") });
        await Devices.ExpectPresenceAsync(fay, una, "offline");
        await sam.AssertNothingPendingAsync();
    }
}
