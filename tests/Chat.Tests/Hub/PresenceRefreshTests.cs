using System.Text.Json.Nodes;
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
/// session. Each test stages that order with the hub's two refresh steps, on a Redis and a replica of its own (whose own
/// refresh ticks every ten minutes here, so only the staged one runs): una, whose friend fay watches her.
/// </summary>
public sealed class PresenceRefreshTests : IAsyncLifetime
{
    private readonly string _name = TestClient.Unique("una");
    private RedisServer _redis = null!;
    private Replica _replica = null!;
    private RedisHub _hub = null!;
    private int _una;
    private TestClient _fay = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartNewAsync();
        var database = await (await PostgresServer.StartedAsync()).CreateDatabaseAsync("refresh_" + Guid.NewGuid().ToString("N")[..8]);
        _replica = await Replica.StartAsync(database, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = _redis.ConnectionString,
            ["Chat:Login:Multiple"] = "allow",
            ["Chat:PresenceTtl"] = "00:30:00",
        });
        _hub = (RedisHub)_replica.Services.GetRequiredService<ChatHub>();
        _una = await Devices.RegisterAsync(_replica.ChatPort, _name);
        _fay = await Devices.WatcherAsync(_replica.ChatPort, "fay", _una, v: 2);
    }

    public async Task DisposeAsync()
    {
        await _fay.DisposeAsync();
        await _replica.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task A_session_released_under_a_refresh_does_not_keep_its_user_online_when_the_last_other_session_ends()
    {
        await using var phone = await UnaAsync();
        await Devices.ExpectPresenceAsync(_fay, _una, "online");
        await using var laptop = await UnaAsync();

        var read = _hub.BeginRefresh(); // both sessions
        await LogOutAsync(phone); // released; the laptop still counts
        await _hub.RefreshAsync(read); // reaches Redis after the release
        await LogOutAsync(laptop); // the last session

        await Devices.ExpectPresenceAsync(_fay, _una, "offline");
        Assert.Empty(await _hub.OnlineAsync([_una]));
    }

    [Fact]
    public async Task A_last_session_released_under_a_refresh_stays_offline_and_is_announced_once()
    {
        await using var phone = await UnaAsync();
        await Devices.ExpectPresenceAsync(_fay, _una, "online");

        var read = _hub.BeginRefresh();
        await LogOutAsync(phone);
        await Devices.ExpectPresenceAsync(_fay, _una, "offline");
        await _hub.RefreshAsync(read);

        Assert.Empty(await _hub.OnlineAsync([_una]));
        await _fay.AssertNothingPendingAsync();
    }

    private async Task<TestClient> UnaAsync()
    {
        var session = await _replica.ConnectAsync();
        Assert.Equal(0, (int)(await session.LoginAsync(_una, "pw-" + _name, v: 2))["errno"]!);
        return session;
    }

    private static Task<JsonObject> LogOutAsync(TestClient session) => Devices.AckedAsync(session, new LogoutRequest { Cid = Cid.From("out") });
}
