using Chat.Protocol;

namespace Chat.Tests.Client;

/// <summary>The client reconnects with its session token, and falls back to the password when the token is refused.</summary>
public sealed class ClientTokenTests
{
    [Fact]
    public async Task A_reconnect_logs_in_with_the_token_and_with_the_password_once_the_token_is_refused()
    {
        await using var server = new ScriptedServer();
        var (started, login) = await server.StartLoggingInAsync(7, "secret");
        await using var client = started;
        Assert.Equal((7, "secret", (string?)null), (login.Id, login.Password, login.Token));
        await server.SendAsync(LoginOk(login.Cid, "token-1"));
        await client.ExpectAsync("current login user => id:7 name:me");

        server.Drop();
        await client.ExpectAsync("connection lost: reconnecting");
        await server.AcceptAsync();
        var byToken = Assert.IsType<LoginRequest>(await server.ReceiveAsync());
        Assert.Equal((7, (string?)null, "token-1"), (byToken.Id, byToken.Password, byToken.Token));

        // Revoked meanwhile (LOGINOUT all on another device): the next attempt brings the password.
        await server.SendAsync(ServerFrames.Reply(MsgId.Login, byToken.Cid, Reply.Fail(ErrorCode.Invalid, "id or token is invalid"))!);
        await server.AcceptAsync();
        var byPassword = Assert.IsType<LoginRequest>(await server.ReceiveAsync());
        Assert.Equal((7, "secret", (string?)null), (byPassword.Id, byPassword.Password, byPassword.Token));
        await server.SendAsync(LoginOk(byPassword.Cid, "token-2"));
        await client.ExpectAsync("reconnected");

        server.Drop();
        await server.AcceptAsync();
        var again = Assert.IsType<LoginRequest>(await server.ReceiveAsync());
        Assert.Equal("token-2", again.Token);
        await server.SendAsync(LoginOk(again.Cid, "token-2"));
        await client.ExpectAsync("reconnected");

        client.CloseInput();
        Assert.Equal(0, await client.WaitForExitAsync());
    }

    private static byte[] LoginOk(Cid? cid, string token) =>
        ServerFrames.LoginOk(new LoginAck(7, "me", [], [], [], [], More: false, Token: token), objects: true, cid);
}
