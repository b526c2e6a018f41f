using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Chat.Protocol;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Admin;

/// <summary>
/// The operators' API on two replicas sharing MariaDB and Redis: every change made through one replica's
/// <c>/admin</c> reaches the user's sessions on the other. nginx never proxies it.
/// </summary>
public sealed class AdminTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>, IDisposable
{
    private static readonly string[] Routes =
    [
        "/admin/groups/{id}", "/admin/groups/{id}/members/{userId}", "/admin/recall", "/admin/stats", "/admin/users", "/admin/users/{id}",
        "/admin/users/{id}/ban", "/admin/users/{id}/signout",
    ];

    private readonly HttpClient _a = Client(cluster.A.HttpPort, ClusterFixture.AdminKey);

    public void Dispose() => _a.Dispose();

    private static HttpClient Client(int port, string? key)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return http;
    }

    private static async Task<JsonObject> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Without_the_right_key_every_route_is_401_after_a_delay_and_nginx_never_passes_admin()
    {
        using var none = Client(cluster.A.HttpPort, key: null);
        using var wrong = Client(cluster.A.HttpPort, "not-the-key");
        var clock = Stopwatch.StartNew();

        await ProblemAsync(await none.GetAsync(new Uri("/admin/stats", UriKind.Relative)), HttpStatusCode.Unauthorized);
        await ProblemAsync(await wrong.PostAsync(new Uri("/admin/users/1/signout", UriKind.Relative), null), HttpStatusCode.Unauthorized);
        await ProblemAsync(await wrong.GetAsync(new Uri("/admin/openapi.json", UriKind.Relative)), HttpStatusCode.Unauthorized);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.7), $"three refusals took {clock.Elapsed}: each waits a second");

        using var throughNginx = Client(cluster.Nginx.HttpPort, ClusterFixture.AdminKey);
        Assert.Equal(HttpStatusCode.NotFound, (await throughNginx.GetAsync(new Uri("/admin/stats", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _a.GetAsync(new Uri("/admin/stats", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_lists_every_admin_route_and_nothing_else()
    {
        var document = (await _a.GetFromJsonAsync<JsonObject>(new Uri("/admin/openapi.json", UriKind.Relative)))!;

        var paths = document["paths"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.AsObject().Select(m => m.Key).Order().ToList());
        Assert.Equal(Routes, paths.Keys.Order());
        Assert.Equal(["delete", "post"], paths["/admin/users/{id}/ban"]);
    }

    [Fact]
    public async Task A_ban_closes_the_users_session_on_the_other_replica_refuses_logins_with_the_reason_and_lifts()
    {
        await using var una = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("una"), v: 2);
        await using var seed = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("seed"));

        var banned = await _a.PostAsync(new Uri($"/admin/users/{una.Id}/ban", UriKind.Relative), Json("""{"reason":"spam"}"""));
        Assert.Equal(HttpStatusCode.OK, banned.StatusCode);

        var error = await una.ReceiveAsync(12);
        Assert.Equal((13, "banned: spam"), ((int)error["errno"]!, (string)error["errmsg"]!));
        Assert.Null(await una.ReceiveOrCloseAsync());

        await using var again = await TestClient.ConnectAsync(cluster.A.ChatPort);
        var refused = await again.LoginAsync(una.Id, "pw-" + una.Name, v: 2);
        Assert.Equal((13, "banned: spam"), ((int)refused["errno"]!, (string)refused["errmsg"]!));
        var user = (await _a.GetFromJsonAsync<JsonObject>(new Uri($"/admin/users/{una.Id}", UriKind.Relative)))!;
        Assert.Equal(("spam", false), ((string)user["ban"]!["reason"]!, (bool)user["online"]!));

        // A ban with an end; the seed user's session closes too.
        var until = DateTimeOffset.UtcNow.AddDays(1);
        Assert.Equal(HttpStatusCode.OK, (await _a.PostAsync(new Uri($"/admin/users/{seed.Id}/ban", UriKind.Relative), Json($$"""{"reason":"flood","until":"{{until:O}}"}"""))).StatusCode);
        Assert.Equal(13, (int)(await seed.ReceiveAsync(12))["errno"]!);

        Assert.Equal(HttpStatusCode.NoContent, (await _a.DeleteAsync(new Uri($"/admin/users/{una.Id}/ban", UriKind.Relative))).StatusCode);
        await using var back = await TestClient.ConnectAsync(cluster.B.ChatPort);
        Assert.Equal(0, (int)(await back.LoginAsync(una.Id, "pw-" + una.Name, v: 2))["errno"]!);
        await ProblemAsync(await _a.DeleteAsync(new Uri($"/admin/users/{una.Id}/ban", UriKind.Relative)), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bad_bodies_and_unknown_users_are_problems_naming_what_is_wrong()
    {
        await using var una = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("una"));
        var ban = new Uri($"/admin/users/{una.Id}/ban", UriKind.Relative);

        Assert.Contains("body", (await ProblemAsync(await _a.PostAsync(ban, Json("{not json")), HttpStatusCode.BadRequest))["errors"]!.AsObject().Select(e => e.Key));
        Assert.Contains("reason", (await ProblemAsync(await _a.PostAsync(ban, Json("""{"until":null}""")), HttpStatusCode.BadRequest))["errors"]!.AsObject().Select(e => e.Key));
        Assert.Contains("until", (await ProblemAsync(await _a.PostAsync(ban, Json("""{"reason":"x","until":"yesterday"}""")), HttpStatusCode.BadRequest))["errors"]!.AsObject().Select(e => e.Key));
        Assert.Contains("until", (await ProblemAsync(await _a.PostAsync(ban, Json("""{"reason":"x","until":"2001-01-01T00:00:00Z"}""")), HttpStatusCode.BadRequest))["errors"]!.AsObject().Select(e => e.Key));
        await ProblemAsync(await _a.PostAsync(new Uri("/admin/users/2147483647/ban", UriKind.Relative), Json("""{"reason":"x"}""")), HttpStatusCode.NotFound);
        await ProblemAsync(await _a.GetAsync(new Uri("/admin/users/2147483647", UriKind.Relative)), HttpStatusCode.NotFound);
        await ProblemAsync(await _a.GetAsync(new Uri("/admin/users", UriKind.Relative)), HttpStatusCode.BadRequest);

        // Nothing was applied: una still chats.
        await una.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task A_sign_out_closes_every_session_and_revokes_every_token_but_the_password_still_works()
    {
        await using var una = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("una"), v: 2);
        var token = (string)(await LoginAgainAsync(una))["token"]!;

        Assert.Equal(HttpStatusCode.NoContent, (await _a.PostAsync(new Uri($"/admin/users/{una.Id}/signout", UriKind.Relative), null)).StatusCode);

        var error = await una.ReceiveAsync(12);
        Assert.Equal(13, (int)error["errno"]!);
        Assert.Null(await una.ReceiveOrCloseAsync());
        await using var byToken = await TestClient.ConnectAsync(cluster.A.ChatPort);
        Assert.Equal(1, (int)(await byToken.RequestAsync(new LoginRequest(una.Id, null, 2) { Token = token }))["errno"]!);
        Assert.Equal(0, (int)(await byToken.LoginAsync(una.Id, "pw-" + una.Name, v: 2))["errno"]!);
    }

    /// <summary>Logs out and in again on the same connection: the LOGIN_ACK (v2, with a token).</summary>
    private static async Task<JsonObject> LoginAgainAsync(TestClient client)
    {
        Assert.Equal(0, (int)(await client.RequestAsync(new LogoutRequest { Cid = Cid.From("out") }))["errno"]!);
        return await client.LoginAsync(client.Id, "pw-" + client.Name, v: 2);
    }

    [Fact]
    public async Task Users_by_name_groups_member_removal_and_cluster_figures()
    {
        var prefix = TestClient.Unique("Pre");
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, prefix + "-alice", v: 2);
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, prefix + "-bob", v: 2);

        var found = (await _a.GetFromJsonAsync<JsonArray>(new Uri($"/admin/users?name={prefix.ToLowerInvariant()}", UriKind.Relative)))!;
        Assert.Equal([alice.Id, bob.Id], found.Select(u => (int)u!["id"]!));

        var groupId = (int)(await Devices.AckedAsync(alice, new CreateGroupRequest(TestClient.Unique("g"), "d") { Cid = Cid.From("g") }))["groupid"]!;
        await Devices.JoinInTurnAsync(groupId, [alice], bob);
        var group = (await _a.GetFromJsonAsync<JsonObject>(new Uri($"/admin/groups/{groupId}", UriKind.Relative)))!;
        Assert.Equal([(alice.Id, "creator"), (bob.Id, "normal")], group["members"]!.AsArray().Select(m => ((int)m!["id"]!, (string)m["role"]!)));

        await ProblemAsync(await _a.DeleteAsync(new Uri($"/admin/groups/{groupId}/members/{alice.Id}", UriKind.Relative)), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, (await _a.DeleteAsync(new Uri($"/admin/groups/{groupId}/members/{bob.Id}", UriKind.Relative))).StatusCode);
        await Devices.ExpectGoneAsync(bob, groupId, bob.Id, by: 0);
        await Devices.ExpectGoneAsync(alice, groupId, bob.Id, by: 0);
        Assert.Equal(7, (int)(await bob.RequestAsync(new GroupChatRequest(groupId, "still in?") { Cid = Cid.From("x") }))["errno"]!);

        var stats = (await _a.GetFromJsonAsync<JsonObject>(new Uri("/admin/stats", UriKind.Relative)))!;
        Assert.Equal(2, stats["replicas"]!.AsArray().Count);
        Assert.True((long)stats["usersOnline"]! >= 2, stats.ToJsonString());
    }

    [Fact]
    public async Task With_no_key_configured_the_api_is_not_there()
    {
        await using var replica = await Replica.StartAsync(TestDatabase.Sqlite("noadmin"));
        using var http = Client(replica.HttpPort, "anything");

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/admin/stats", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/admin/openapi.json", UriKind.Relative))).StatusCode);
    }
}
