using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Chat.Protocol;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Admin;

/// <summary>
/// Webhooks through the durable outbox, against a real receiver on loopback (<see cref="WebhookReceiver"/>): every
/// event reaches it once per delivery id with a valid signature, on every engine; a receiver down for 30 s gets every
/// event afterwards; one that fails, redirects or hangs never slows chat, and events are dead-lettered after
/// <c>MaxAttempts</c>. (A replica killed between commit and delivery: <see cref="WebhookFailoverTests"/>.)
/// </summary>
public sealed partial class WebhookTests
{
    public const string Secret = "a-webhook-secret-for-tests";
    private const string AdminKey = "hooks-admin-key";

    internal static Dictionary<string, string?> Settings(WebhookReceiver receiver) => new()
    {
        ["Chat:Webhooks:Url"] = receiver.Url,
        ["Chat:Webhooks:Secret"] = Secret,
        ["Chat:Webhooks:PollInterval"] = "00:00:00.100",
        ["Chat:Webhooks:FirstBackoff"] = "00:00:00.200",
        ["Chat:Admin:Keys:0"] = AdminKey,
    };

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Each_event_reaches_the_receiver_once_per_delivery_id_with_a_valid_signature(string provider)
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        var database = await TestDatabase.CreateAsync(provider, "hooks");
        await using var replica = await Replica.StartAsync(database, Settings(receiver));
        using var admin = AdminClient(replica.HttpPort);

        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"), v: 2);
        await using var carol = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("carol"), v: 2);
        var group = (int)(await Devices.AckedAsync(alice, new CreateGroupRequest(TestClient.Unique("g"), "d") { Cid = Cid.From("g") }))["groupid"]!;
        await Devices.JoinInTurnAsync(group, [alice], carol);
        int bobId;
        string bobName;
        await using (var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"), v: 2))
        {
            (bobId, bobName) = (bob.Id, bob.Name);
            await AckAsync(bob, new { msgid = 9, groupid = group, cid = "j" });
        }

        await OfflineAsync(admin, bobId);

        // Offline: bob gets an event for each message, the group's too; carol (online) for none. A resent cid, an edit: none.
        var first = await AckAsync(alice, new { msgid = 6, toid = bobId, msg = "first", cid = "1" });
        var second = await AckAsync(alice, new { msgid = 6, toid = bobId, msg = "second", cid = "2" });
        Assert.Equal(first, await AckAsync(alice, new { msgid = 6, toid = bobId, msg = "first", cid = "1" }));
        var inGroup = await AckAsync(alice, new { msgid = 10, groupid = group, msg = "to the group", cid = "3" });
        await AckAsync(alice, new { msgid = 6, toid = carol.Id, msg = "you are online", cid = "4" });
        await AckAsync(alice, new { msgid = 24, peer = bobId, seq = first, msg = "first, edited", cid = "5" });
        var banned = await admin.PostAsync(new Uri($"/admin/users/{carol.Id}/ban", UriKind.Relative), new StringContent("""{"reason":"testing hooks"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, banned.StatusCode);

        var taken = await AllTakenAsync(receiver, database, 7);
        Assert.All(taken, d =>
        {
            Assert.True(d.SignatureValid, d.Body.ToJsonString());
            Assert.Equal(d.Id, d.DeliveryHeader);
            Assert.Equal(d.Type, d.EventHeader);
            Assert.Matches("^[0-9a-f]{32}$", d.Id);
            Assert.True((long)d.Body["ts"]! > 0);
        });
        Assert.Equal(7, taken.Select(d => d.Id).Distinct().Count());

        Assert.Equal(
            [(alice.Id, alice.Name), (carol.Id, carol.Name), (bobId, bobName)], // in the order they registered (ids)
            taken.Where(d => d.Type == "user.registered").Select(d => ((int)d.Body["user"]!, (string)d.Body["name"]!)).Order());
        var offline = taken.Where(d => d.Type == "message.offline").OrderBy(d => (string)d.Body["msg"]!).ToList();
        Assert.Equal(
            [("first", first, (int?)null), ("second", second, null), ("to the group", inGroup, group)],
            offline.Select(d => ((string)d.Body["msg"]!, (long)d.Body["seq"]!, (int?)d.Body["groupid"])));
        Assert.All(offline, d => Assert.Equal((bobId, alice.Id, alice.Name), ((int)d.Body["user"]!, (int)d.Body["from"]!, (string)d.Body["name"]!)));
        var ban = Assert.Single(taken, d => d.Type == "user.banned");
        Assert.Equal((carol.Id, "testing hooks"), ((int)ban.Body["user"]!, (string)ban.Body["reason"]!));
        Assert.Null(ban.Body["until"]);
    }

    [Fact]
    public async Task A_receiver_down_for_30_seconds_gets_every_event_afterwards()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret, up: false);
        var database = await TestDatabase.CreateAsync("mysql", "hooksdown");
        var settings = Settings(receiver);
        settings["Chat:Webhooks:FirstBackoff"] = "00:00:01";
        settings["Chat:Webhooks:MaxBackoff"] = "00:00:04";
        settings["Chat:Webhooks:MaxAttempts"] = "100";
        await using var replica = await Replica.StartAsync(database, settings);
        using var admin = AdminClient(replica.HttpPort);
        var down = Stopwatch.StartNew();

        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"), v: 2);
        var bobId = await Devices.RegisterAsync(replica.ChatPort, TestClient.Unique("bob"));
        for (var i = 0; i < 5; i++)
        {
            await AckAsync(alice, new { msgid = 6, toid = bobId, msg = $"while down {i}", cid = $"m{i}" });
        }

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync(new Uri($"/admin/users/{bobId}/ban", UriKind.Relative), new StringContent("""{"reason":"r"}""", Encoding.UTF8, "application/json"))).StatusCode);

        // Every event was tried, and failed, more than once while the receiver was down; none was given up.
        await Wait.UntilAsync(async () => await database.ScalarAsync("SELECT COALESCE(MIN(attempts), 0) FROM webhook_outbox") >= 2, TimeSpan.FromSeconds(25), "every event tried twice");
        var left = TimeSpan.FromSeconds(30) - down.Elapsed;
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left); // the scenario itself: the receiver stays down for 30 s
        }

        Assert.Equal(8, await database.ScalarAsync("SELECT COUNT(*) FROM webhook_outbox WHERE dead = @p0", false));
        await receiver.UpAsync();

        var taken = await AllTakenAsync(receiver, database, 8);
        Assert.All(taken, d => Assert.True(d.SignatureValid));
        Assert.Equal(8, taken.Select(d => d.Id).Distinct().Count());
        Assert.Equal(5, taken.Count(d => d.Type == "message.offline"));
        Assert.Equal(2, taken.Count(d => d.Type == "user.registered"));
        Assert.Equal(1, taken.Count(d => d.Type == "user.banned"));
    }

    [Fact]
    public async Task A_receiver_that_fails_redirects_or_hangs_never_slows_chat_and_events_are_dead_lettered_after_max_attempts()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        receiver.Status = 500;
        var database = TestDatabase.Sqlite("hooksbad");
        var settings = Settings(receiver);
        settings["Chat:Webhooks:MaxAttempts"] = "3";
        settings["Chat:Webhooks:FirstBackoff"] = "00:00:00.100";
        settings["Chat:Webhooks:MaxBackoff"] = "00:00:00.200";
        settings["Chat:Webhooks:Timeout"] = "00:00:01";
        settings["Chat:Webhooks:Lease"] = "00:00:05";
        await using var replica = await Replica.StartAsync(database, settings);

        // 500: three attempts each (each with its quick retries), then dead-lettered, counted in /metrics.
        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"), v: 2);
        var bobId = await Devices.RegisterAsync(replica.ChatPort, TestClient.Unique("bob"));
        await Wait.UntilAsync(async () => await database.ScalarAsync("SELECT COUNT(*) FROM webhook_outbox WHERE dead = 1 AND attempts = 3") == 2, TimeSpan.FromSeconds(30), "two events dead-lettered");
        Assert.Empty(receiver.Taken);
        Assert.True(receiver.Refused >= 6, $"{receiver.Refused} refused POSTs");
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{replica.HttpPort}/metrics"));
        Assert.Equal(2, DeadLettered().Matches(metrics).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));

        // A redirect is a failed attempt, never followed.
        receiver.Status = 302;
        await Devices.RegisterAsync(replica.ChatPort, TestClient.Unique("carol"));
        await Wait.UntilAsync(async () => await database.ScalarAsync("SELECT COUNT(*) FROM webhook_outbox WHERE last_error = 'HTTP 302'") == 1, TimeSpan.FromSeconds(30), "the redirect counted as a failure");

        // A receiver that hangs: chat goes on at its own pace while deliveries time out behind it.
        receiver.Status = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            await AckAsync(alice, new { msgid = 6, toid = bobId, msg = $"to offline bob {i}", cid = $"h{i}" });
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"20 sends took {clock.Elapsed} with a hanging receiver");
        Assert.Empty(receiver.Taken);
    }

    [GeneratedRegex(@"^chat_webhooks_dead_lettered_total(?:\{[^}]*\})? (\d+)", RegexOptions.Multiline)]
    private static partial Regex DeadLettered();

    internal static HttpClient AdminClient(int httpPort)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return http;
    }

    /// <summary>Waits until the admin API says the user has no session anywhere.</summary>
    internal static Task OfflineAsync(HttpClient admin, int userId) =>
        Wait.UntilAsync(
            async () => !(bool)(await admin.GetFromJsonAsync<JsonObject>(new Uri($"/admin/users/{userId}", UriKind.Relative)))!["online"]!,
            TimeSpan.FromSeconds(15), $"user {userId} offline");

    /// <summary>Sends a request with a cid and returns the ACK's seq (0 when it has none), skipping pushes meanwhile.</summary>
    internal static async Task<long> AckAsync(TestClient client, object frame)
    {
        await client.SendAsync(frame);
        var reply = await client.ReceiveUntilAsync(r => (int)r["msgid"]! is 11 or 12);
        Assert.True((int)reply["errno"]! == 0, reply.ToJsonString());
        return (long?)reply["seq"] ?? 0;
    }

    /// <summary>Waits until the receiver has taken at least <paramref name="count"/> events and the outbox is empty (every one acknowledged: no more will come).</summary>
    internal static async Task<List<WebhookDelivery>> AllTakenAsync(WebhookReceiver receiver, TestDatabase database, int count, int seconds = 30)
    {
        await Wait.UntilAsync(
            async () => receiver.Taken.Count >= count && await database.ScalarAsync("SELECT COUNT(*) FROM webhook_outbox") == 0,
            TimeSpan.FromSeconds(seconds), $"{count} events delivered");
        var taken = receiver.Taken.ToList();
        Assert.True(taken.Count == count, string.Join("\n", taken.Select(d => d.Body.ToJsonString())));
        return taken;
    }
}
