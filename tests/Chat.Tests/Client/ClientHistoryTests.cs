using System.Globalization;
using Chat.Tests.Integration;

namespace Chat.Tests.Client;

/// <summary>The console client's commands for history, read marks, unread counts, leaving and removing, against a real replica.</summary>
public sealed class ClientHistoryTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private int Port => fixture.Replica.ChatPort;

    [Fact]
    public async Task Unread_at_login_then_read_history_and_read_notices_both_ways()
    {
        await using var client = ClientProcess.Start(Port);
        var (id, name) = await ClientTests.RegisterAsync(client);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"), v: 2);
        foreach (var text in new[] { "m1", "m2" })
        {
            await bob.RequestAsync(new { msgid = 6, toid = id, msg = text, time = "t", cid = text });
        }

        await ClientTests.LogInAsync(client, id, name);
        await client.ExpectAsync($"chat with [{bob.Id}]: 2 unread (read up to seq 0 of 2)");

        await client.SendAsync($"read:{bob.Id}:2");
        await client.ExpectAsync($"chat {bob.Id} read up to seq 2");
        Assert.Equal((id, 2), ((int)(await bob.ReceiveAsync(18))["id"]!, 2));

        await client.SendAsync($"history:{bob.Id}");
        await client.ExpectAsync($"t [{bob.Id}] {bob.Name} said: m1 (seq 1)");
        await client.ExpectAsync($"t [{bob.Id}] {bob.Name} said: m2 (seq 2)");
        await client.ExpectAsync("(the beginning of the conversation)");

        await client.SendAsync($"chat:{bob.Id}:read this");
        await bob.ReceiveAsync(6);
        await client.ExpectAsync("sent (seq 3)");
        await bob.RequestAsync(new { msgid = 17, peer = id, seq = 3, cid = "r" });
        await client.ExpectAsync($"[{bob.Id}] read your messages up to seq 3");

        await client.SendAsync("history:2147483000");
        await client.ExpectAsync("error 6: no user 2147483000");
        await client.SendAsync($"read:{bob.Id}:x");
        await client.ExpectStartingAsync("error: usage: read:friendid:seq");
    }

    [Fact]
    public async Task Leave_a_group_remove_a_member_be_removed_and_remove_a_friend()
    {
        await using var client = ClientProcess.Start(Port);
        var (id, name) = await ClientTests.RegisterAsync(client);
        await ClientTests.LogInAsync(client, id, name);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"), v: 2);

        var team = TestClient.Unique("team");
        await client.SendAsync($"creategroup:{team}:ours");
        var created = await client.ExpectStartingAsync($"group {team} created, groupid ");
        var mine = int.Parse(created.Split(' ')[^1], CultureInfo.InvariantCulture);
        await bob.RequestAsync(new { msgid = 9, groupid = mine, cid = "j" });
        await client.ExpectAsync($"[{bob.Id}] {bob.Name} joined group {mine}");
        await client.SendAsync($"removemember:{mine}:{bob.Id}");
        await client.ExpectAsync($"removed {bob.Id} from group {mine}");
        Assert.Equal(id, (int)(await bob.ReceiveAsync(22))["by"]!);
        await client.SendAsync($"leavegroup:{mine}");
        await client.ExpectAsync($"left group {mine}");
        await client.SendAsync($"leavegroup:{mine}");
        await client.ExpectStartingAsync("error 7: ");

        var bobs = (int)(await bob.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("bobs"), cid = "c" }))["groupid"]!;
        await client.SendAsync($"addgroup:{bobs}");
        await client.ExpectAsync($"joined group {bobs}");
        await client.SendAsync($"removemember:{bobs}:{bob.Id}");
        await client.ExpectStartingAsync("error 13: ");
        Assert.Equal(id, (int)(await bob.ReceiveAsync(9))["id"]!); // the console user joined bob's group
        Assert.Equal(0, (int)(await bob.RequestAsync(new { msgid = 22, groupid = bobs, userid = id, cid = "rm" }))["errno"]!);
        await client.ExpectAsync($"you were removed from group {bobs} by [{bob.Id}]");

        await client.SendAsync($"addfriend:{bob.Id}");
        await client.ExpectAsync($"friend {bob.Id} added");
        await client.SendAsync($"removefriend:{bob.Id}");
        await client.ExpectAsync($"friend {bob.Id} removed");
    }
}
