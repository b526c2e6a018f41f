using System.Globalization;
using System.Text.RegularExpressions;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Client;

/// <summary>The console client as a user runs it: a real process, typed at through a pipe, read line by line.</summary>
public sealed partial class ClientTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private int Port => fixture.Replica.ChatPort;

    [Fact]
    public async Task Register_log_in_and_chat_both_ways()
    {
        await using var client = ClientProcess.Start(Port);
        var (id, name) = await RegisterAsync(client);
        await LogInAsync(client, id, name);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));

        await bob.SendAsync(new { msgid = 6, toid = id, msg = "hello: how are you?", time = "2026-11-21 10:00:00" });
        await client.ExpectAsync($"2026-11-21 10:00:00 [{bob.Id}] {bob.Name} said: hello: how are you?");

        await client.SendAsync($"chat:{bob.Id}:fine: thanks");
        var frame = await bob.ReceiveAsync(6);
        Assert.Equal((id, name, "fine: thanks"), ((int)frame["id"]!, (string)frame["name"]!, (string)frame["msg"]!));
        await client.ExpectAsync("sent (seq 2)");

        client.CloseInput();
        Assert.Equal(0, await client.WaitForExitAsync());
    }

    [Fact]
    public async Task Over_websocket_the_same_commands_chat_both_ways()
    {
        await using var client = ClientProcess.Start([$"ws://127.0.0.1:{fixture.Replica.HttpPort}/ws"]);
        var (id, name) = await RegisterAsync(client);
        await LogInAsync(client, id, name);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));

        await bob.SendAsync(new { msgid = 6, toid = id, msg = "over tcp", time = "2026-11-21 10:00:00" });
        await client.ExpectAsync($"2026-11-21 10:00:00 [{bob.Id}] {bob.Name} said: over tcp");
        await client.SendAsync($"chat:{bob.Id}:over a websocket");
        Assert.Equal("over a websocket", (string)(await bob.ReceiveAsync(6))["msg"]!);
        await client.ExpectAsync("sent (seq 2)");

        client.CloseInput();
        Assert.Equal(0, await client.WaitForExitAsync());
    }

    [Fact]
    public async Task Friends_groups_and_group_chat_then_loginout_and_log_in_again_on_the_same_connection()
    {
        await using var client = ClientProcess.Start(Port);
        var (id, name) = await RegisterAsync(client);
        await LogInAsync(client, id, name);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));

        await client.SendAsync($"addfriend:{bob.Id}");
        await client.ExpectAsync($"friend {bob.Id} added");

        var team = TestClient.Unique("team");
        await client.SendAsync($"creategroup:{team}:our team: all of us");
        var created = await client.ExpectStartingAsync($"group {team} created, groupid ");
        var groupId = int.Parse(created.Split(' ')[^1], CultureInfo.InvariantCulture);
        var join = await bob.RequestAsync(new { msgid = 9, groupid = groupId, cid = "join" });
        Assert.Equal(0, (int)join["errno"]!);

        await bob.SendAsync(new { msgid = 10, groupid = groupId, msg = "hi team", time = "t1" });
        await client.ExpectAsync($"group message[{groupId}]: t1 [{bob.Id}] {bob.Name} said: hi team");
        await client.SendAsync($"groupchat:{groupId}:hi bob: welcome");
        var frame = await bob.ReceiveAsync(10);
        Assert.Equal((id, groupId, "hi bob: welcome"), ((int)frame["id"]!, (int)frame["groupid"]!, (string)frame["msg"]!));
        await client.ExpectAsync("sent (seq 2)");

        var bobsGroup = await bob.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("bobs"), cid = "create" });
        await client.SendAsync($"addgroup:{(int)bobsGroup["groupid"]!}");
        await client.ExpectAsync($"joined group {(int)bobsGroup["groupid"]!}");

        await client.SendAsync("loginout");
        await client.ExpectAsync("logged out");
        await client.ExpectAsync("choice:");
        var stored = await bob.RequestAsync(new { msgid = 6, toid = id, msg = "while you were away", time = "t2", cid = "away" });
        Assert.Equal(0, (int)stored["errno"]!);

        await client.SendAsync("1");
        await client.SendAsync(id.ToString(CultureInfo.InvariantCulture));
        await client.SendAsync("pw-" + name);
        await client.ExpectAsync($"current login user => id:{id} name:{name}");
        await client.ExpectAsync($"{bob.Id} {bob.Name} online");
        await client.ExpectAsync($"{groupId} {team} our team: all of us");
        await client.ExpectAsync($"    {id} {name} online creator");
        await client.ExpectAsync($"    {bob.Id} {bob.Name} online normal");
        await client.ExpectAsync($"t2 [{bob.Id}] {bob.Name} said: while you were away");
    }

    [Fact]
    public async Task Offline_messages_are_shown_at_login_oldest_first()
    {
        await using var setup = await TestClient.ConnectAsync(Port);
        var name = TestClient.Unique("carol");
        var id = await setup.RegisterAsync(name, "pw-" + name);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));
        for (var i = 1; i <= 3; i++)
        {
            var ack = await bob.RequestAsync(new { msgid = 6, toid = id, msg = $"offline {i}", time = "t", cid = $"o{i}" });
            Assert.Equal(0, (int)ack["errno"]!);
        }

        await using var client = ClientProcess.Start(Port);
        await client.ExpectAsync("choice:");
        await LogInAsync(client, id, name);
        for (var i = 1; i <= 3; i++)
        {
            await client.ExpectAsync($"t [{bob.Id}] {bob.Name} said: offline {i}");
        }
    }

    [Fact]
    public async Task Bad_input_prints_an_error_and_the_client_keeps_working()
    {
        await using var client = ClientProcess.Start(Port);
        await client.ExpectAsync("choice:");
        await client.SendAsync("9");
        await client.ExpectAsync("invalid input!");
        await client.SendAsync("1");
        await client.SendAsync("2147483000");
        await client.SendAsync("wrong");
        await client.ExpectAsync("error 1: id or password is invalid");

        var (id, name) = await RegisterAsync(client);
        await LogInAsync(client, id, name);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));

        await client.SendAsync("chat:abc:x");
        await client.ExpectStartingAsync("error: usage: chat:friendid:message");
        await client.SendAsync("shout:everyone");
        await client.ExpectStartingAsync("error: unknown command 'shout'");
        await client.SendAsync("chat:2147483000:anyone there?");
        await client.ExpectAsync("error 6: no user 2147483000");
        await client.SendAsync("groupchat:2147483000:anyone?");
        await client.ExpectStartingAsync("error 7: ");
        await client.SendAsync("help");
        await client.ExpectAsync("chat : chat:friendid:message");

        await client.SendAsync($"chat:{bob.Id}:still here");
        Assert.Equal("still here", (string)(await bob.ReceiveAsync(6))["msg"]!);
    }

    [Fact]
    public async Task At_the_end_of_input_the_client_waits_for_its_acks_then_exits()
    {
        await using var client = ClientProcess.Start(Port);
        var (id, name) = await RegisterAsync(client);
        await LogInAsync(client, id, name);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));

        for (var i = 1; i <= 20; i++)
        {
            await client.SendAsync($"chat:{bob.Id}:last words {i}");
        }

        client.CloseInput();

        Assert.Equal(0, await client.WaitForExitAsync());
        for (var i = 1; i <= 20; i++)
        {
            Assert.Equal($"last words {i}", (string)(await bob.ReceiveAsync(6))["msg"]!);
            await client.ExpectAsync($"sent (seq {i})");
        }
    }

    [Fact]
    public async Task A_quiet_client_sends_heartbeats_so_the_servers_idle_timeout_does_not_close_it()
    {
        var idle = TimeSpan.FromSeconds(2);
        await using var replica = await Replica.StartAsync(fixture.Database, new Dictionary<string, string?> { ["Chat:IdleTimeout"] = "00:00:02" });
        await using var client = ClientProcess.Start(replica.ChatPort, new Dictionary<string, string> { ["CHAT_CLIENT_HEARTBEAT"] = "0.5" });
        var (id, name) = await RegisterAsync(client);
        await LogInAsync(client, id, name);

        // The user types nothing for three idle timeouts: only the heartbeat keeps the connection open.
        await Task.Delay(idle * 3);
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));
        await bob.SendAsync(new { msgid = 6, toid = id, msg = "still there?", time = "t" });

        await client.ExpectAsync($"t [{bob.Id}] {bob.Name} said: still there?");
        Assert.Equal(0, client.Count("connection lost: reconnecting"));
    }

    [Fact]
    public async Task After_the_connection_is_cut_the_client_reconnects_resumes_and_resends()
    {
        await using var proxy = TcpProxy.Start(Port);
        await using var client = ClientProcess.Start(proxy.Port);
        var (id, name) = await RegisterAsync(client);
        await LogInAsync(client, id, name);
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));
        await bob.SendAsync(new { msgid = 6, toid = id, msg = "before", time = "t" });
        await client.ExpectAsync($"t [{bob.Id}] {bob.Name} said: before");

        proxy.Cut();
        await client.ExpectAsync("connection lost: reconnecting");
        var during = await bob.RequestAsync(new { msgid = 6, toid = id, msg = "during", time = "t", cid = "d" });
        Assert.Equal(0, (int)during["errno"]!);
        await client.SendAsync($"chat:{bob.Id}:typed while cut off");
        await client.ExpectAsync("not connected: it goes out after reconnecting");
        proxy.Restore();

        await client.ExpectAsync($"t [{bob.Id}] {bob.Name} said: during");
        await client.ExpectAsync("reconnected");
        Assert.Equal("typed while cut off", (string)(await bob.ReceiveAsync(6))["msg"]!);
        await client.ExpectAsync("sent (seq 3)");

        await client.SendAsync($"chat:{bob.Id}:and after");
        Assert.Equal("and after", (string)(await bob.ReceiveAsync(6))["msg"]!);
        await client.ExpectAsync("sent (seq 4)");
        Assert.Equal(1, client.Count($"t [{bob.Id}] {bob.Name} said: before"));
    }

    /// <summary>Registers a fresh user through the menu; the client is back at the menu afterwards.</summary>
    internal static async Task<(int Id, string Name)> RegisterAsync(ClientProcess client)
    {
        var name = TestClient.Unique("cli");
        await client.ExpectAsync("choice:");
        await client.SendAsync("2");
        await client.SendAsync(name);
        await client.SendAsync("pw-" + name);
        var line = await client.ExpectStartingAsync($"{name} register success");
        var id = int.Parse(UserId().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
        await client.ExpectAsync("choice:");
        return (id, name);
    }

    /// <summary>Logs in through the menu (which must be showing) and waits for the end of the login summary.</summary>
    internal static async Task LogInAsync(ClientProcess client, int id, string name)
    {
        await client.SendAsync("1");
        await client.SendAsync(id.ToString(CultureInfo.InvariantCulture));
        await client.SendAsync("pw-" + name);
        await client.ExpectAsync($"current login user => id:{id} name:{name}");
        await client.ExpectAsync("======================================================");
    }

    [GeneratedRegex(@"userid is (\d+)")]
    private static partial Regex UserId();
}
