using Chat.Tests.Infrastructure;
using System.Text.Json.Nodes;

namespace Chat.Tests.Integration;

public sealed class GroupTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private int Port => fixture.Replica.ChatPort;

    private static async Task<int> CreateGroupAsync(TestClient creator, string name)
    {
        var ack = await creator.RequestAsync(new { msgid = 8, groupname = name, groupdesc = "about " + name, cid = "create" });
        Assert.True((int)ack["msgid"]! == 11 && (int)ack["errno"]! == 0, ack.ToJsonString());
        return (int)ack["groupid"]!;
    }

    private static async Task JoinAsync(TestClient member, int groupId)
    {
        var ack = await member.RequestAsync(new { msgid = 9, groupid = groupId, cid = "join" });
        Assert.True((int)ack["errno"]! == 0, ack.ToJsonString());
    }

    [Fact]
    public async Task A_group_message_reaches_every_other_member_and_not_the_sender()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));
        await using var carol = await TestClient.LoggedInAsync(Port, TestClient.Unique("carol"));
        await using var outsider = await TestClient.LoggedInAsync(Port, TestClient.Unique("dan"));
        var groupId = await CreateGroupAsync(alice, TestClient.Unique("team"));
        await JoinAsync(bob, groupId);
        await JoinAsync(carol, groupId);

        await alice.SendAsync(new { msgid = 10, id = 999, name = "fake", groupid = groupId, msg = "hi all", time = "now" });

        foreach (var member in new[] { bob, carol })
        {
            var frame = await member.ReceiveAsync(10);
            Assert.Equal((alice.Id, alice.Name, groupId, "hi all", "now", 1L),
                ((int)frame["id"]!, (string)frame["name"]!, (int)frame["groupid"]!, (string)frame["msg"]!, (string)frame["time"]!, (long)frame["seq"]!));
        }

        await alice.AssertNothingPendingAsync();
        await outsider.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task A_non_member_cannot_chat_into_a_group()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var mallory = await TestClient.LoggedInAsync(Port, TestClient.Unique("mallory"));
        var groupId = await CreateGroupAsync(alice, TestClient.Unique("private"));

        var error = await mallory.RequestAsync(new { msgid = 10, groupid = groupId, msg = "let me in" });

        Assert.Equal((12, 7, 10), ((int)error["msgid"]!, (int)error["errno"]!, (int)error["req"]!));
        await alice.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Unknown_groups_and_taken_group_names_are_errors()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        var name = TestClient.Unique("dup");
        await CreateGroupAsync(alice, name);

        var taken = await alice.RequestAsync(new { msgid = 8, groupname = name, groupdesc = "again" });
        var join = await alice.RequestAsync(new { msgid = 9, groupid = int.MaxValue });
        var empty = await alice.RequestAsync(new { msgid = 8, groupname = "" });

        Assert.Equal((12, 9), ((int)taken["msgid"]!, (int)taken["errno"]!));
        Assert.Equal((12, 6), ((int)join["msgid"]!, (int)join["errno"]!));
        Assert.Equal((12, 4), ((int)empty["msgid"]!, (int)empty["errno"]!));
    }

    [Fact]
    public async Task A_create_group_resent_with_its_cid_after_a_reconnect_gets_the_same_group_and_nobody_else_does()
    {
        var aliceName = TestClient.Unique("alice");
        var alice = await TestClient.LoggedInAsync(Port, aliceName);
        await using var mallory = await TestClient.LoggedInAsync(Port, TestClient.Unique("mallory"));
        var name = TestClient.Unique("resent");
        var first = await alice.RequestAsync(new { msgid = 8, groupname = name, cid = "g-1" });
        await alice.DisposeAsync();

        // Say the ACK was lost with the connection: the client logs in again and resends the request as it was.
        await using var again = await TestClient.ConnectAsync(Port);
        await Wait.UntilAsync(
            async () => (int)(await again.LoginAsync(alice.Id, "pw-" + aliceName))["errno"]! == 0,
            TestClient.Deadline,
            "alice to log in again once her old connection is closed");
        var resent = await again.RequestAsync(new { msgid = 8, groupname = name, cid = "g-1" });
        var otherCid = await again.RequestAsync(new { msgid = 8, groupname = name, cid = "g-2" });
        var otherUser = await mallory.RequestAsync(new { msgid = 8, groupname = name, cid = "g-1" });

        Assert.Equal((11, 0), ((int)first["msgid"]!, (int)first["errno"]!));
        Assert.Equal((0, (int)first["groupid"]!), ((int)resent["errno"]!, (int)resent["groupid"]!));
        Assert.Equal(9, (int)otherCid["errno"]!);
        Assert.Equal(9, (int)otherUser["errno"]!);

        // Still one group with alice as its only member, and chat in it works on the new connection.
        var chat = await again.RequestAsync(new { msgid = 10, groupid = (int)first["groupid"]!, msg = "hi", cid = "m" });
        Assert.Equal(0, (int)chat["errno"]!);
        await again.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Groups_are_listed_at_login_with_members_roles_and_state()
    {
        var bobName = TestClient.Unique("bob");
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(Port, bobName);
        var groupName = TestClient.Unique("club");
        var groupId = await CreateGroupAsync(alice, groupName);
        await JoinAsync(bob, groupId);
        await JoinAsync(bob, groupId); // joining twice is harmless

        await bob.SendAsync(new { msgid = 3 });
        await alice.DisposeAsync();
        await Infrastructure.Wait.UntilAsync(async () =>
        {
            var probe = await bob.LoginAsync(bob.Id, "pw-" + bobName);
            var g = JsonNode.Parse((string)probe["groups"]!.AsArray().Single()!)!.AsObject();
            var users = g["users"]!.AsArray().Select(u => JsonNode.Parse((string)u!)!.AsObject()).ToList();
            var aliceEntry = users.Single(u => (int)u["id"]! == alice.Id);
            var offline = (string)aliceEntry["state"]! == "offline";
            if (offline)
            {
                Assert.Equal((groupId, groupName, "about " + groupName), ((int)g["id"]!, (string)g["groupname"]!, (string)g["groupdesc"]!));
                Assert.Equal("creator", (string)aliceEntry["role"]!);
                var bobEntry = users.Single(u => (int)u["id"]! == bob.Id);
                Assert.Equal(("normal", "online", bob.Name), ((string)bobEntry["role"]!, (string)bobEntry["state"]!, (string)bobEntry["name"]!));
            }

            await bob.SendAsync(new { msgid = 3 });
            return offline;
        }, TimeSpan.FromSeconds(10), "alice shows offline after disconnecting");
    }

    [Fact]
    public async Task A_new_member_gets_no_old_history_but_gets_what_is_sent_while_offline()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        var bobName = TestClient.Unique("bob");
        await using var bob = await TestClient.LoggedInAsync(Port, bobName);
        var groupId = await CreateGroupAsync(alice, TestClient.Unique("history"));
        Assert.Equal(0, (int)(await alice.RequestAsync(new { msgid = 10, groupid = groupId, msg = "before bob", cid = "1" }))["errno"]!);

        await JoinAsync(bob, groupId);
        // Logged out once answered: without a cid nothing says when, and "after bob" could still reach him live.
        Assert.Equal(0, (int)(await bob.RequestAsync(new { msgid = 3, cid = "out" }))["errno"]!);
        Assert.Equal(0, (int)(await alice.RequestAsync(new { msgid = 10, groupid = groupId, msg = "after bob", cid = "2" }))["errno"]!);

        var login = await bob.LoginAsync(bob.Id, "pw-" + bobName);
        var offline = login["offlinemsg"]!.AsArray().Select(m => JsonNode.Parse((string)m!)!.AsObject()).ToList();
        var only = Assert.Single(offline);
        Assert.Equal(("after bob", 10, groupId, 2L), ((string)only["msg"]!, (int)only["msgid"]!, (int)only["groupid"]!, (long)only["seq"]!));
    }

    [Fact]
    public async Task A_member_who_joins_while_online_receives_live()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));
        var groupId = await CreateGroupAsync(alice, TestClient.Unique("live"));
        await JoinAsync(bob, groupId);

        await alice.SendAsync(new { msgid = 10, groupid = groupId, msg = "welcome" });
        await bob.SendAsync(new { msgid = 10, groupid = groupId, msg = "thanks" });

        Assert.Equal("welcome", (string)(await bob.ReceiveAsync(10))["msg"]!);
        Assert.Equal("thanks", (string)(await alice.ReceiveAsync(10))["msg"]!);
    }
}
