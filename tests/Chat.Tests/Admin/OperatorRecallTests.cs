using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Chat.Protocol;
using Chat.Tests.Cluster;
using Chat.Tests.Integration;

namespace Chat.Tests.Admin;

/// <summary>
/// <c>POST /admin/recall</c> on two replicas sharing MariaDB and Redis: the operator's recall, asked of replica A, is an
/// entry of the conversation's log like a user's RECALL — the next seq, pushed in order to live sessions on both
/// replicas, the message recalled in HISTORY.
/// </summary>
public sealed class OperatorRecallTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>, IDisposable
{
    private readonly HttpClient _a = new() { BaseAddress = new Uri($"http://127.0.0.1:{cluster.A.HttpPort}"), Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose() => _a.Dispose();

    private async Task<HttpResponseMessage> RecallAsync(string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/admin/recall", UriKind.Relative))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ClusterFixture.AdminKey);
        var response = await _a.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static async Task<long> SentAsync(TestClient sender, object frame, TestClient recipient, int msgid)
    {
        var ack = await sender.RequestAsync(frame);
        Assert.True((int)ack["errno"]! == 0, ack.ToJsonString());
        var seq = (long)ack["seq"]!;
        Assert.Equal(seq, (long)(await recipient.ReceiveAsync(msgid))["seq"]!);
        return seq;
    }

    [Fact]
    public async Task A_direct_message_recalled_by_the_operator_reaches_both_parties_on_both_replicas_in_order()
    {
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("alice"), v: 2);
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"), v: 2);
        var regretted = await SentAsync(alice, new { msgid = 6, toid = bob.Id, msg = "something to regret", cid = "1" }, bob, 6);
        Assert.Equal(0, (int)(await alice.RequestAsync(new { msgid = 26, peer = bob.Id, seq = regretted, emoji = "👍", cid = "r" }))["errno"]!);
        Assert.Equal(26, (int)(await bob.ReceiveAsync(26))["msgid"]!);
        var kept = await SentAsync(bob, new { msgid = 6, toid = alice.Id, msg = "kept", cid = "2" }, alice, 6);

        var response = await RecallAsync($$"""{"peer":[{{bob.Id}},{{alice.Id}}],"seq":{{regretted}}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var done = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var recallSeq = (long)done["seq"]!;
        Assert.Equal((kept + 1, regretted), (recallSeq, (long)done["ref"]!));

        // Both parties' live sessions, on B and on A, get the author's RECALL with the next seq, and nothing else between.
        foreach (var party in new[] { bob, alice })
        {
            var recall = await party.ReceiveAsync(25);
            Assert.Equal((alice.Id, bob.Id, recallSeq, regretted), ((int)recall["id"]!, (int)recall["toid"]!, (long)recall["seq"]!, (long)recall["ref"]!));
        }

        // The log goes on after it, in order.
        var after = await SentAsync(alice, new { msgid = 6, toid = bob.Id, msg = "after", cid = "3" }, bob, 6);
        Assert.Equal(recallSeq + 1, after);

        var history = (await bob.RequestAsync(new { msgid = 15, peer = alice.Id }))["messages"]!.AsArray();
        Assert.Equal([regretted, kept, after], history.Select(m => (long)m!["seq"]!));
        Assert.Equal((true, ""), ((bool)history[0]!["recalled"]!, (string)history[0]!["msg"]!));
        Assert.True(history[0]!["reactions"] is null or JsonArray { Count: 0 }, history[0]!.ToJsonString()); // erased with the text
        Assert.Equal("kept", (string)history[1]!["msg"]!);
        Assert.Null(history[1]!["recalled"]);

        // Recalled once: a second recall is a conflict; no such message: 404. Nothing more reached anyone.
        Assert.Equal(HttpStatusCode.Conflict, (await RecallAsync($$"""{"peer":[{{alice.Id}},{{bob.Id}}],"seq":{{regretted}}}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await RecallAsync($$"""{"peer":[{{alice.Id}},{{bob.Id}}],"seq":{{after + 100}}}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await RecallAsync($$"""{"peer":[{{alice.Id}},{{bob.Id}}],"seq":{{recallSeq}}}""")).StatusCode); // an event is no message
        await bob.AssertNothingPendingAsync();
        await alice.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task A_group_message_recalled_by_the_operator_reaches_every_member_and_history_shows_it_recalled()
    {
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("alice"), v: 2);
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"), v: 2);
        var group = (int)(await Devices.AckedAsync(alice, new CreateGroupRequest(TestClient.Unique("g"), "d") { Cid = Cid.From("g") }))["groupid"]!;
        await Devices.JoinInTurnAsync(group, [alice], bob);
        var seq = await SentAsync(bob, new { msgid = 10, groupid = group, msg = "spam", cid = "1" }, alice, 10);

        var response = await RecallAsync($$"""{"groupid":{{group}},"seq":{{seq}}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var recallSeq = (long)(await response.Content.ReadFromJsonAsync<JsonObject>())!["seq"]!;

        foreach (var member in new[] { alice, bob })
        {
            var recall = await member.ReceiveAsync(25);
            Assert.Equal((bob.Id, group, recallSeq, seq), ((int)recall["id"]!, (int)recall["groupid"]!, (long)recall["seq"]!, (long)recall["ref"]!));
        }

        var history = (await alice.RequestAsync(new { msgid = 15, groupid = group }))["messages"]!.AsArray();
        Assert.Equal((seq, true, ""), ((long)history.Last()!["seq"]!, (bool)history.Last()!["recalled"]!, (string)history.Last()!["msg"]!));
    }

    [Fact]
    public async Task The_file_of_a_message_the_operator_recalls_is_erased_before_the_answer()
    {
        await using var alice = await TestClient.ConnectAsync(cluster.A.ChatPort);
        var name = TestClient.Unique("alice");
        var token = (string)(await alice.LoginAsync(await alice.RegisterAsync(name, "pw-" + name), "pw-" + name, v: 2))["token"]!;
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"), v: 2);
        using var upload = new HttpRequestMessage(HttpMethod.Post, new Uri("/files?name=regret.bin", UriKind.Relative))
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("bytes to regret")),
        };
        upload.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var uploaded = await _a.SendAsync(upload);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var file = (string)(await uploaded.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var seq = await SentAsync(alice, new { msgid = 6, toid = bob.Id, msg = "", file, cid = "1" }, bob, 6);
        Assert.Equal(HttpStatusCode.OK, await FileStatusAsync());

        var response = await RecallAsync($$"""{"peer":[{{alice.Id}},{{bob.Id}}],"seq":{{seq}}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Gone by the time the operator is answered, as after the author's own RECALL; both parties are told.
        Assert.Equal(HttpStatusCode.NotFound, await FileStatusAsync());
        foreach (var party in new[] { bob, alice })
        {
            Assert.Equal(seq, (long)(await party.ReceiveAsync(25))["ref"]!);
        }

        async Task<HttpStatusCode> FileStatusAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/files/{file}", UriKind.Relative));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var got = await _a.SendAsync(request);
            return got.StatusCode;
        }
    }

    [Fact]
    public async Task Bad_bodies_are_problems_naming_the_field()
    {
        async Task<string> FieldAsync(string json)
        {
            var response = await RecallAsync(json);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Single().Key;
        }

        Assert.Equal("body", await FieldAsync("{not json"));
        Assert.Equal("peer", await FieldAsync("""{"seq":1}"""));
        Assert.Equal("peer", await FieldAsync("""{"peer":[1,2],"groupid":3,"seq":1}"""));
        Assert.Equal("peer", await FieldAsync("""{"peer":[1],"seq":1}"""));
        Assert.Equal("peer", await FieldAsync("""{"peer":[2,2],"seq":1}"""));
        Assert.Equal("groupid", await FieldAsync("""{"groupid":"x","seq":1}"""));
        Assert.Equal("seq", await FieldAsync("""{"groupid":1}"""));
        Assert.Equal("seq", await FieldAsync("""{"groupid":1,"seq":0}"""));
    }
}
