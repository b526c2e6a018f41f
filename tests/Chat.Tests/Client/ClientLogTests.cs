using Chat.Tests.Integration;

namespace Chat.Tests.Client;

/// <summary>The console client's reply, edit, recall and react commands (issue 21), against a real replica.</summary>
public sealed class ClientLogTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private int Port => fixture.Replica.ChatPort;

    [Fact]
    public async Task Reply_edit_react_and_recall_from_the_console_and_what_others_do_is_printed()
    {
        await using var client = ClientProcess.Start(Port);
        var (id, name) = await ClientTests.RegisterAsync(client);
        await ClientTests.LogInAsync(client, id, name);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"), v: 2);
        await bob.RequestAsync(new { msgid = 6, toid = id, msg = "lunch?", time = "t", cid = "1" });
        await client.ExpectAsync($"t [{bob.Id}] {bob.Name} said: lunch?");

        await client.SendAsync($"reply:{bob.Id}:1:yes: at noon");
        await client.ExpectAsync("sent (seq 2)");
        var reply = await bob.ReceiveAsync(6);
        Assert.Equal((1L, "lunch?", "yes: at noon"), ((long)reply["reply"]!["seq"]!, (string)reply["reply"]!["msg"]!, (string)reply["msg"]!));

        await client.SendAsync($"edit:{bob.Id}:2:yes: at one");
        await client.ExpectAsync("edited seq 2");
        Assert.Equal("yes: at one", (string)(await bob.ReceiveAsync(24))["msg"]!);

        await client.SendAsync($"react:{bob.Id}:1:👍");
        await client.ExpectAsync("reacted 👍 to seq 1");
        Assert.Equal("👍", (string)(await bob.ReceiveAsync(26))["emoji"]!);
        await client.SendAsync($"unreact:{bob.Id}:1:👍");
        await client.ExpectAsync("took back 👍 on seq 1");
        Assert.False((bool)(await bob.ReceiveAsync(26))["on"]!);

        await client.SendAsync($"recall:{bob.Id}:2");
        await client.ExpectAsync("recalled seq 2");
        Assert.Equal(2L, (long)(await bob.ReceiveAsync(25))["ref"]!);

        // What the other user does shows as it happens, and in history as it stands.
        await bob.RequestAsync(new { msgid = 24, peer = id, seq = 1, msg = "lunch today?", cid = "2" });
        await client.ExpectAsync($"[{bob.Id}] {bob.Name} edited seq 1: lunch today?");
        await bob.RequestAsync(new { msgid = 26, peer = id, seq = 1, emoji = "🍕", cid = "3" });
        await client.ExpectAsync($"[{bob.Id}] {bob.Name} reacted 🍕 to seq 1");
        await client.SendAsync($"history:{bob.Id}");
        await client.ExpectAsync($"t [{bob.Id}] {bob.Name} said: lunch today? (edited) 🍕1 (seq 1)");
        var quoted = $"[{id}] {name} said: (re seq 1 [{bob.Id}] {bob.Name}: lunch today?) (message recalled) (seq 2)";
        await client.ExpectAsync(l => l.EndsWith(quoted, StringComparison.Ordinal), quoted);

        await client.SendAsync($"edit:{bob.Id}:1:not mine");
        await client.ExpectAsync("error 13: only its author may edit a message");
        await client.SendAsync($"react:{bob.Id}:x:👍");
        await client.ExpectStartingAsync("error: usage: react:friendid:seq:emoji");
    }
}
