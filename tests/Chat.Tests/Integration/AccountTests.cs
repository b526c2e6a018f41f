using System.Text.Json.Nodes;

namespace Chat.Tests.Integration;

public sealed class AccountTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private int Port => fixture.Replica.ChatPort;

    [Fact]
    public async Task Register_then_login_answers_in_the_seed_shape()
    {
        await using var client = await TestClient.ConnectAsync(Port);
        var name = TestClient.Unique("alice");
        var reg = await client.RequestAsync(new { msgid = 4, name, password = "secret" });
        Assert.Equal(5, (int)reg["msgid"]!);
        Assert.Equal(0, (int)reg["errno"]!);
        var id = (int)reg["id"]!;

        var ack = await client.RequestAsync(new { msgid = 1, id, password = "secret" });
        Assert.Equal(2, (int)ack["msgid"]!);
        Assert.Equal(0, (int)ack["errno"]!);
        Assert.Equal(id, (int)ack["id"]!);
        Assert.Equal(name, (string)ack["name"]!);
        Assert.Null(ack["friends"]);
        Assert.Null(ack["groups"]);
        Assert.Null(ack["offlinemsg"]);
    }

    [Fact]
    public async Task Wrong_password_or_unknown_id_is_errno_1()
    {
        await using var client = await TestClient.ConnectAsync(Port);
        var id = await client.RegisterAsync(TestClient.Unique("bob"), "right");

        var wrong = await client.RequestAsync(new { msgid = 1, id, password = "wrong" });
        var unknown = await client.RequestAsync(new { msgid = 1, id = int.MaxValue, password = "right" });

        foreach (var ack in new[] { wrong, unknown })
        {
            Assert.Equal(2, (int)ack["msgid"]!);
            Assert.Equal(1, (int)ack["errno"]!);
            Assert.False(string.IsNullOrEmpty((string?)ack["errmsg"]));
        }
    }

    [Fact]
    public async Task A_second_login_while_online_is_errno_2_and_the_first_keeps_working()
    {
        var name = TestClient.Unique("carol");
        await using var first = await TestClient.LoggedInAsync(Port, name);
        await using var second = await TestClient.ConnectAsync(Port);

        var ack = await second.LoginAsync(first.Id, "pw-" + name);

        Assert.Equal(2, (int)ack["errno"]!);
        await first.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task A_taken_or_invalid_name_is_refused_with_errno_1()
    {
        await using var client = await TestClient.ConnectAsync(Port);
        var name = TestClient.Unique("dave");
        await client.RegisterAsync(name, "pw");

        var taken = await client.RequestAsync(new { msgid = 4, name, password = "other" });
        var empty = await client.RequestAsync(new { msgid = 4, name = "", password = "pw" });
        var control = await client.RequestAsync(new { msgid = 4, name = "a\u0001b", password = "pw" });
        var noPassword = await client.RequestAsync(new { msgid = 4, name = TestClient.Unique("erin") });
        await client.SendRawAsync("{\"msgid\":4,\"name\":\"half \\ud800\",\"password\":\"p\"}\n"u8.ToArray());
        var surrogate = await client.ReceiveAsync();

        Assert.Equal((12, 4, 4), ((int)surrogate["msgid"]!, (int)surrogate["errno"]!, (int)surrogate["req"]!));
        foreach (var ack in new[] { taken, empty, control, noPassword })
        {
            Assert.Equal(5, (int)ack["msgid"]!);
            Assert.Equal(1, (int)ack["errno"]!);
            Assert.False(string.IsNullOrEmpty((string?)ack["errmsg"]));
        }
    }

    [Fact]
    public async Task Loginout_makes_the_connection_anonymous_and_it_can_log_in_again()
    {
        var name = TestClient.Unique("frank");
        await using var client = await TestClient.LoggedInAsync(Port, name);
        var id = client.Id;

        await client.SendAsync(new { msgid = 3, id, cid = "out" });
        var ack = await client.ReceiveAsync(11);
        Assert.Equal("out", (string?)ack["cid"]);
        Assert.Equal(0, (int)ack["errno"]!);

        var refused = await client.RequestAsync(new { msgid = 6, toid = id, msg = "x" });
        Assert.Equal((12, 3), ((int)refused["msgid"]!, (int)refused["errno"]!));

        // The account is free again: logging in (here or anywhere) works.
        var again = await client.LoginAsync(id, "pw-" + name);
        Assert.Equal(0, (int)again["errno"]!);
    }

    [Fact]
    public async Task Disconnecting_frees_the_account_for_another_connection()
    {
        var name = TestClient.Unique("gina");
        var first = await TestClient.LoggedInAsync(Port, name);
        var id = first.Id;
        await first.DisposeAsync();

        await using var second = await TestClient.ConnectAsync(Port);
        JsonObject? ack = null;
        await Infrastructure.Wait.UntilAsync(async () =>
        {
            ack = await second.LoginAsync(id, "pw-" + name);
            return (int)ack["errno"]! == 0;
        }, TimeSpan.FromSeconds(10), "the account is released after its connection closed");
        Assert.Equal(id, (int)ack!["id"]!);
    }

    [Fact]
    public async Task Before_login_only_login_register_and_ping_are_served()
    {
        await using var client = await TestClient.ConnectAsync(Port);

        var pong = await client.RequestAsync(new { msgid = 13 });
        Assert.Equal(14, (int)pong["msgid"]!);

        foreach (var msgid in new[] { 3, 6, 7, 8, 9, 10 })
        {
            var error = await client.RequestAsync(new { msgid, id = 1, toid = 2, msg = "hi", friendid = 2, groupid = 1, groupname = "g" });
            Assert.Equal(12, (int)error["msgid"]!);
            Assert.Equal(3, (int)error["errno"]!);
            Assert.Equal(msgid, (int)error["req"]!);
        }
    }
}
