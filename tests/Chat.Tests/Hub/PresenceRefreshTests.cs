using Chat.Protocol;
using Chat.Server.Hub;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Hub;

/// <summary>
/// A replica's refresh puts back the claims of the sessions it read as here. One that read a session just before the
/// session ended, and reached Redis after its release, put the released claim back: the user stayed online with no
/// session. Each test stages that order with the hub's two refresh steps, on a Redis of its own (the replica's own
/// refresh ticks every ten minutes here, so only the staged one runs).
/// </summary>
public sealed class PresenceRefreshTests
{
    private static async Task<(Replica Replica, RedisHub Hub)> StartAsync(RedisServer redis, string name)
    {
        var database = await (await PostgresServer.StartedAsync()).CreateDatabaseAsync(name);
        var replica = await Replica.StartAsync(database, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Chat:Login:Multiple"] = "allow",
            ["Chat:PresenceTtl"] = "00:30:00",
        });
        return (replica, (RedisHub)replica.Services.GetRequiredService<ChatHub>());
    }

    [Fact]
    public async Task A_session_released_under_a_refresh_does_not_keep_its_user_online_when_the_last_other_session_ends()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var (replica, hub) = await StartAsync(redis, "refresh_other");
        await using var _ = replica;
        var name = TestClient.Unique("una");
        var una = await Devices.RegisterAsync(replica.ChatPort, name);
        await using var fay = await Devices.WatcherAsync(replica.ChatPort, "fay", una, v: 2);
        await using var phone = await replica.ConnectAsync();
        Assert.Equal(0, (int)(await phone.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await Devices.ExpectPresenceAsync(fay, una, "online");
        await using var laptop = await replica.ConnectAsync();
        Assert.Equal(0, (int)(await laptop.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);

        var read = hub.BeginRefresh(); // both sessions
        await Devices.AckedAsync(phone, new LogoutRequest { Cid = Cid.From("out") }); // released; the laptop still counts
        await hub.RefreshAsync(read); // reaches Redis after the release
        await Devices.AckedAsync(laptop, new LogoutRequest { Cid = Cid.From("out") }); // the last session

        await Devices.ExpectPresenceAsync(fay, una, "offline");
        Assert.Empty(await hub.OnlineAsync([una]));
    }

    [Fact]
    public async Task A_last_session_released_under_a_refresh_stays_offline_and_is_announced_once()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var (replica, hub) = await StartAsync(redis, "refresh_last");
        await using var _ = replica;
        var name = TestClient.Unique("una");
        var una = await Devices.RegisterAsync(replica.ChatPort, name);
        await using var fay = await Devices.WatcherAsync(replica.ChatPort, "fay", una, v: 2);
        await using var phone = await replica.ConnectAsync();
        Assert.Equal(0, (int)(await phone.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await Devices.ExpectPresenceAsync(fay, una, "online");

        var read = hub.BeginRefresh();
        await Devices.AckedAsync(phone, new LogoutRequest { Cid = Cid.From("out") });
        await Devices.ExpectPresenceAsync(fay, una, "offline");
        await hub.RefreshAsync(read);

        Assert.Empty(await hub.OnlineAsync([una]));
        await fay.AssertNothingPendingAsync();
    }
}
