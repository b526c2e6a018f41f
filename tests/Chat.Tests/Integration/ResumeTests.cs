using System.Text.Json.Nodes;
using Chat.Protocol;

namespace Chat.Tests.Integration;

/// <summary>Resume by seq: LOGIN lists the last seq seen per conversation and LOGIN_ACK brings everything after.</summary>
public sealed class ResumeTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private int Port => fixture.Replica.ChatPort;

    [Fact]
    public async Task A_client_that_lost_delivered_messages_gets_them_again_in_order_from_the_seq_it_names()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        var bobName = TestClient.Unique("bob");
        await using var bob = await TestClient.LoggedInAsync(Port, bobName, v: 2);
        for (var i = 1; i <= 5; i++)
        {
            await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = $"m{i}", cid = i });
            Assert.Equal(i, (long)(await bob.ReceiveAsync(6))["seq"]!);
        }

        // Bob's cursor is past all five; his device only kept the first two.
        await bob.SendAsync(new { msgid = 3, cid = "out" });
        await bob.ReceiveAsync(11);
        var login = await LoginAsync(bob, bobName, new ResumePoint(alice.Id, null, 2));

        Assert.Equal(["m3", "m4", "m5"], Texts(login));
        Assert.Equal([3L, 4L, 5L], Seqs(login));
        var conversation = Assert.Single(login["convs"]!.AsArray());
        Assert.Equal((alice.Id, 5L), ((int)conversation!["peer"]!, (long)conversation["seq"]!));
        await bob.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Resuming_from_beyond_the_cursor_skips_what_the_client_has_and_moves_the_cursor()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var setup = await TestClient.ConnectAsync(Port);
        var bobName = TestClient.Unique("bob");
        var bobId = await setup.RegisterAsync(bobName, "pw-" + bobName);
        for (var i = 1; i <= 5; i++)
        {
            await alice.RequestAsync(new { msgid = 6, toid = bobId, msg = $"m{i}", cid = i });
        }

        await using var bob = await TestClient.ConnectAsync(Port);
        var first = await bob.LoginAsync(bobId, "pw-" + bobName, v: 2, resume: [new ResumePoint(alice.Id, null, 3)]);
        Assert.Equal(["m4", "m5"], Texts(first));

        await alice.RequestAsync(new { msgid = 6, toid = bobId, msg = "live", cid = "live" });
        Assert.Equal(6L, (long)(await bob.ReceiveAsync(6))["seq"]!);

        // Without resume, the next login starts from the cursor (flushed by the logout): it moved past 3 as
        // well, so nothing is pending.
        await LogoutAsync(bob);
        var again = await LoginAsync(bob, bobName);
        Assert.Null(again["offlinemsg"]);
    }

    [Fact]
    public async Task A_group_member_cannot_resume_into_history_from_before_joining()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        var group = await alice.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("g"), cid = "g" });
        var groupId = (int)group["groupid"]!;
        await alice.RequestAsync(new { msgid = 10, groupid = groupId, msg = "before", cid = "b" });

        var carolName = TestClient.Unique("carol");
        await using var carol = await TestClient.LoggedInAsync(Port, carolName, v: 2);
        await carol.RequestAsync(new { msgid = 9, groupid = groupId, cid = "join" });
        await alice.RequestAsync(new { msgid = 10, groupid = groupId, msg = "after", cid = "a" });
        Assert.Equal("after", (string)(await carol.ReceiveAsync(10))["msg"]!);

        await LogoutAsync(carol);
        var login = await LoginAsync(carol, carolName, new ResumePoint(null, groupId, 0));

        Assert.Equal(["after"], Texts(login));
        var conversation = Assert.Single(login["convs"]!.AsArray());
        Assert.Equal((groupId, 2L), ((int)conversation!["groupid"]!, (long)conversation["seq"]!));
    }

    [Fact]
    public async Task Conversations_the_user_is_not_part_of_are_ignored()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));
        var group = await alice.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("g"), cid = "g" });
        await alice.RequestAsync(new { msgid = 10, groupid = (int)group["groupid"]!, msg = "members only", cid = "1" });
        await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "for bob only", cid = "2" });

        var malloryName = TestClient.Unique("mallory");
        await using var mallory = await TestClient.LoggedInAsync(Port, malloryName, v: 2);
        await LogoutAsync(mallory);
        var login = await LoginAsync(mallory, malloryName, new ResumePoint(null, (int)group["groupid"]!, 0), new ResumePoint(alice.Id, null, 0));

        Assert.Equal(0, (int)login["errno"]!);
        Assert.Null(login["offlinemsg"]);
        Assert.Null(login["convs"]);
    }

    [Theory]
    [InlineData("""{"msgid":1,"id":1,"password":"x","resume":{"peer":1,"seq":1}}""")]
    [InlineData("""{"msgid":1,"id":1,"password":"x","resume":[{"peer":1}]}""")]
    [InlineData("""{"msgid":1,"id":1,"password":"x","resume":[{"peer":1,"groupid":2,"seq":1}]}""")]
    [InlineData("""{"msgid":1,"id":1,"password":"x","resume":[{"peer":"1","seq":1}]}""")]
    [InlineData("""{"msgid":1,"id":1,"password":"x","resume":[{"peer":1,"seq":-1}]}""")]
    [InlineData("""{"msgid":1,"id":1,"password":"x","resume":[7]}""")]
    public async Task A_malformed_resume_list_is_a_bad_request(string frame)
    {
        await using var client = await TestClient.ConnectAsync(Port);
        await client.SendRawAsync(System.Text.Encoding.UTF8.GetBytes(frame + "\n"));
        var error = await client.ReceiveAsync(12);

        Assert.Equal(4, (int)error["errno"]!);
        Assert.Contains("resume", (string)error["errmsg"]!, StringComparison.Ordinal);
        await client.AssertNothingPendingAsync();
    }

    private static Task<JsonObject> LoginAsync(TestClient client, string name, params ResumePoint[] resume) =>
        client.LoginAsync(client.Id, "pw-" + name, v: 2, resume: resume);

    private static async Task LogoutAsync(TestClient client)
    {
        await client.SendAsync(new { msgid = 3, cid = "out" });
        await client.ReceiveAsync(11);
    }

    private static List<JsonObject> Offline(JsonObject login) =>
        [.. (login["offlinemsg"]?.AsArray() ?? []).Select(m => m!.AsObject())];

    private static string[] Texts(JsonObject login) => [.. Offline(login).Select(m => (string)m["msg"]!)];

    private static long[] Seqs(JsonObject login) => [.. Offline(login).Select(m => (long)m["seq"]!)];
}
