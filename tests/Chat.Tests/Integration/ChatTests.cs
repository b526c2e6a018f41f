using System.Text.Json.Nodes;

namespace Chat.Tests.Integration;

public sealed class ChatTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private int Port => fixture.Replica.ChatPort;

    [Fact]
    public async Task A_one_to_one_message_arrives_with_the_senders_fields_seq_and_ts()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));

        await alice.SendAsync(new { msgid = 6, id = alice.Id, name = alice.Name, toid = bob.Id, msg = "hello", time = "2024-05-01 10:00:00" });
        var frame = await bob.ReceiveAsync(6);

        Assert.Equal(alice.Id, (int)frame["id"]!);
        Assert.Equal(alice.Name, (string)frame["name"]!);
        Assert.Equal(bob.Id, (int)frame["toid"]!);
        Assert.Equal("hello", (string)frame["msg"]!);
        Assert.Equal("2024-05-01 10:00:00", (string)frame["time"]!);
        Assert.Equal(1, (long)frame["seq"]!);
        Assert.InRange((long)frame["ts"]!, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds());
        await alice.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task The_sender_cannot_pretend_to_be_someone_else()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));
        await using var mallory = await TestClient.LoggedInAsync(Port, TestClient.Unique("mallory"));

        await mallory.SendAsync(new { msgid = 6, id = alice.Id, name = alice.Name, toid = bob.Id, msg = "I am alice" });
        var frame = await bob.ReceiveAsync(6);

        Assert.Equal(mallory.Id, (int)frame["id"]!);
        Assert.Equal(mallory.Name, (string)frame["name"]!);
    }

    [Fact]
    public async Task With_a_cid_the_sender_gets_an_ack_with_seq_and_a_repeat_is_not_stored_twice()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        var bobName = TestClient.Unique("bob");
        await using var bob = await TestClient.LoggedInAsync(Port, bobName);

        var first = await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "once", cid = "m-1" });
        var second = await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "once", cid = "m-1" });
        var third = await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "next", cid = 7 });

        Assert.Equal((11, "m-1", 0), ((int)first["msgid"]!, (string?)first["cid"], (int)first["errno"]!));
        Assert.Equal((long)first["seq"]!, (long)second["seq"]!);
        Assert.Equal((long)first["seq"]! + 1, (long)third["seq"]!);
        Assert.Equal(7, (int)third["cid"]!); // a number stays a number

        Assert.Equal("once", (string)(await bob.ReceiveAsync(6))["msg"]!);
        Assert.Equal("next", (string)(await bob.ReceiveAsync(6))["msg"]!);
        await bob.AssertNothingPendingAsync();

        // The store holds two messages, not three: nothing is pending at the next login either.
        await bob.SendAsync(new { msgid = 3 });
        var relogin = await bob.LoginAsync(bob.Id, "pw-" + bobName);
        Assert.Null(relogin["offlinemsg"]);
    }

    [Fact]
    public async Task Messages_to_an_offline_user_come_in_login_ack_oldest_first_and_only_once()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var setup = await TestClient.ConnectAsync(Port);
        var bobName = TestClient.Unique("bob");
        var bobId = await setup.RegisterAsync(bobName, "pw-" + bobName);

        for (var i = 1; i <= 3; i++)
        {
            var ack = await alice.RequestAsync(new { msgid = 6, toid = bobId, msg = $"offline {i}", time = "t", cid = $"o{i}" });
            Assert.Equal(0, (int)ack["errno"]!);
        }

        await using var bob = await TestClient.ConnectAsync(Port);
        var login = await bob.LoginAsync(bobId, "pw-" + bobName);
        var offline = login["offlinemsg"]!.AsArray();
        Assert.Equal(3, offline.Count);
        for (var i = 0; i < 3; i++)
        {
            // The seed's shape: each entry is a string holding the chat frame as it would have arrived.
            var frame = JsonNode.Parse((string)offline[i]!)!.AsObject();
            Assert.Equal((6, alice.Id, alice.Name, bobId, $"offline {i + 1}", "t", i + 1L),
                ((int)frame["msgid"]!, (int)frame["id"]!, (string)frame["name"]!, (int)frame["toid"]!, (string)frame["msg"]!, (string)frame["time"]!, (long)frame["seq"]!));
        }

        await bob.SendAsync(new { msgid = 3 });
        var again = await bob.LoginAsync(bobId, "pw-" + bobName);
        Assert.Equal(0, (int)again["errno"]!);
        Assert.Null(again["offlinemsg"]);
    }

    [Fact]
    public async Task Chat_to_an_unknown_user_is_an_error_not_silence()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));

        var error = await alice.RequestAsync(new { msgid = 6, toid = int.MaxValue, msg = "anyone?" });
        var acked = await alice.RequestAsync(new { msgid = 6, toid = int.MaxValue, msg = "anyone?", cid = "x" });

        Assert.Equal((12, 6, 6), ((int)error["msgid"]!, (int)error["errno"]!, (int)error["req"]!));
        Assert.Equal((11, 6, "x"), ((int)acked["msgid"]!, (int)acked["errno"]!, (string?)acked["cid"]));
    }

    [Fact]
    public async Task Friends_are_listed_at_login_with_their_state()
    {
        var aliceName = TestClient.Unique("alice");
        await using var alice = await TestClient.LoggedInAsync(Port, aliceName);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));
        await using var setup = await TestClient.ConnectAsync(Port);
        var carolName = TestClient.Unique("carol");
        var carolId = await setup.RegisterAsync(carolName, "pw");

        Assert.Equal(0, (int)(await alice.RequestAsync(new { msgid = 7, friendid = bob.Id, cid = "f1" }))["errno"]!);
        Assert.Equal(0, (int)(await alice.RequestAsync(new { msgid = 7, friendid = carolId, cid = "f2" }))["errno"]!);
        Assert.Equal(0, (int)(await alice.RequestAsync(new { msgid = 7, friendid = carolId, cid = "f3" }))["errno"]!);
        var unknown = await alice.RequestAsync(new { msgid = 7, friendid = int.MaxValue });
        Assert.Equal((12, 6), ((int)unknown["msgid"]!, (int)unknown["errno"]!));

        await alice.SendAsync(new { msgid = 3 });
        var login = await alice.LoginAsync(alice.Id, "pw-" + aliceName);
        var friends = login["friends"]!.AsArray().Select(f => JsonNode.Parse((string)f!)!.AsObject()).ToList();
        Assert.Equal(2, friends.Count);
        Assert.Contains(friends, f => (int)f["id"]! == bob.Id && (string)f["name"]! == bob.Name && (string)f["state"]! == "online");
        Assert.Contains(friends, f => (int)f["id"]! == carolId && (string)f["name"]! == carolName && (string)f["state"]! == "offline");

        // One direction, as the seed: bob did not get alice as a friend.
        await bob.SendAsync(new { msgid = 3 });
        var bobLogin = await bob.LoginAsync(bob.Id, "pw-" + bob.Name);
        Assert.Null(bobLogin["friends"]);
    }

    [Fact]
    public async Task Version_2_login_lists_objects_instead_of_strings()
    {
        var aliceName = TestClient.Unique("alice");
        await using var alice = await TestClient.LoggedInAsync(Port, aliceName);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));
        await alice.RequestAsync(new { msgid = 7, friendid = bob.Id, cid = "f" });
        var group = await alice.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("g"), groupdesc = "d", cid = "g" });
        await bob.SendAsync(new { msgid = 3 });
        await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "v2", cid = "m" });

        var login = await bob.LoginAsync(bob.Id, "pw-" + bob.Name, v: 2);
        var message = login["offlinemsg"]!.AsArray().Single()!.AsObject();
        Assert.Equal("v2", (string)message["msg"]!);

        await alice.SendAsync(new { msgid = 3 });
        var aliceLogin = await alice.LoginAsync(alice.Id, "pw-" + aliceName, v: 2);
        var friend = aliceLogin["friends"]!.AsArray().Single()!.AsObject();
        Assert.Equal((bob.Id, "online"), ((int)friend["id"]!, (string)friend["state"]!));
        var g = aliceLogin["groups"]!.AsArray().Single()!.AsObject();
        Assert.Equal((int)group["groupid"]!, (int)g["id"]!);
        var member = g["users"]!.AsArray().Single()!.AsObject();
        Assert.Equal((alice.Id, "creator", "online"), ((int)member["id"]!, (string)member["role"]!, (string)member["state"]!));
    }

    [Fact]
    public async Task Texts_and_names_round_trip_intact()
    {
        var name = TestClient.Unique("名字 \"q\" \\");
        await using var alice = await TestClient.LoggedInAsync(Port, name);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));
        string[] texts = ["你好，世界 🌍", "quote \" and backslash \\ and \\n literal", "tab\tnew\nline", new string('ü', 4096), ""];

        foreach (var text in texts)
        {
            await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = text, time = "🕒" });
        }

        foreach (var text in texts)
        {
            var frame = await bob.ReceiveAsync(6);
            Assert.Equal(text, (string)frame["msg"]!);
            Assert.Equal(name, (string)frame["name"]!);
            Assert.Equal("🕒", (string)frame["time"]!);
        }
    }

    [Fact]
    public async Task A_senders_messages_arrive_in_the_order_sent()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));

        for (var i = 0; i < 200; i++)
        {
            await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }

        for (var i = 0; i < 200; i++)
        {
            var frame = await bob.ReceiveAsync(6);
            Assert.Equal((i.ToString(System.Globalization.CultureInfo.InvariantCulture), i + 1L), ((string)frame["msg"]!, (long)frame["seq"]!));
        }
    }
}
