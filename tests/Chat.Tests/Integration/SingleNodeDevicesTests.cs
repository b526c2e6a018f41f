using Chat.Protocol;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Integration;

/// <summary>Several devices on a single node (no Redis: the in-process hub), on SQLite.</summary>
public sealed class SingleNodeDevicesTests
{
    private static Task<Replica> StartAsync(string policy) =>
        Replica.StartAsync(TestDatabase.Sqlite("devices"), new Dictionary<string, string?> { ["Chat:Login:Multiple"] = policy });

    [Fact]
    public async Task With_allow_two_sessions_get_every_message_see_each_others_sends_and_presence_goes_offline_with_the_last()
    {
        await using var replica = await StartAsync("allow");
        var name = TestClient.Unique("una");
        var una = await Devices.RegisterAsync(replica.ChatPort, name);
        await using var fay = await Devices.WatcherAsync(replica.ChatPort, "fay", una, v: 2);
        await using var sam = await Devices.WatcherAsync(replica.ChatPort, "sam", una, v: 0);

        await using var phone = await replica.ConnectAsync();
        Assert.Equal(0, (int)(await phone.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await Devices.ExpectPresenceAsync(fay, una, "online");
        var laptop = await replica.ConnectAsync(); // seed protocol; closed below
        Assert.Equal(0, (int)(await laptop.LoginAsync(una, "pw-" + name))["errno"]!);

        await Devices.AckedAsync(fay, new OneChatRequest(una, "hi both") { Cid = Cid.From("1") });
        Assert.Equal("hi both", (string)(await phone.ReceiveAsync(6))["msg"]!);
        Assert.Equal("hi both", (string)(await laptop.ReceiveAsync(6))["msg"]!);
        await Devices.AckedAsync(laptop, new OneChatRequest(fay.Id, "from the laptop") { Cid = Cid.From("2") });
        Assert.Equal("from the laptop", (string)(await fay.ReceiveAsync(6))["msg"]!);
        Assert.Equal("from the laptop", (string)(await phone.ReceiveAsync(6))["msg"]!);
        await laptop.AssertNothingPendingAsync();

        await Devices.AckedAsync(phone, new LogoutRequest { Cid = Cid.From("out") });
        await fay.AssertNothingPendingAsync();
        await laptop.DisposeAsync(); // a connection that just goes is a logout too
        await Devices.ExpectPresenceAsync(fay, una, "offline");
        await sam.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task With_replace_a_new_login_closes_the_older_session_with_errno_12()
    {
        await using var replica = await StartAsync("replace");
        var name = TestClient.Unique("una");
        var una = await Devices.RegisterAsync(replica.ChatPort, name);
        await using var fay = await Devices.WatcherAsync(replica.ChatPort, "fay", una, v: 2);
        await using var older = await replica.ConnectAsync();
        Assert.Equal(0, (int)(await older.LoginAsync(una, "pw-" + name))["errno"]!);
        await Devices.ExpectPresenceAsync(fay, una, "online");

        await using var newer = await replica.ConnectAsync();
        Assert.Equal(0, (int)(await newer.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await Devices.ExpectReplacedAsync(older);

        await Devices.AckedAsync(fay, new OneChatRequest(una, "still there?") { Cid = Cid.From("1") });
        Assert.Equal("still there?", (string)(await newer.ReceiveAsync(6))["msg"]!);
        await fay.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task With_reject_the_default_a_second_login_gets_errno_2()
    {
        await using var replica = await Replica.StartAsync(TestDatabase.Sqlite("devices"));
        var name = TestClient.Unique("una");
        await using var first = await TestClient.LoggedInAsync(replica.ChatPort, name);
        await using var second = await replica.ConnectAsync();

        Assert.Equal(2, (int)(await second.LoginAsync(first.Id, "pw-" + name))["errno"]!);
    }
}
