using Chat.Protocol;

namespace Chat.Tests.Client;

/// <summary>Resume and duplicate handling against a scripted server, which can repeat frames and lose ACKs at will.</summary>
public sealed class ClientResumeTests
{
    private static readonly byte[] M1 = Chat(2, "bob", 7, "m1", seq: 1);
    private static readonly byte[] M2 = Chat(2, "bob", 7, "m2", seq: 2);
    private static readonly byte[] M3 = Chat(2, "bob", 7, "m3", seq: 3);

    [Fact]
    public async Task Repeated_seqs_are_dropped_and_a_reconnect_resumes_from_the_last_seen_seq_and_resends_with_the_same_cid()
    {
        await using var server = new ScriptedServer();
        var (started, login) = await server.StartLoggingInAsync(7, "secret");
        await using var client = started;
        Assert.Equal((7, "secret", 2), (login.Id, login.Password, login.Version));
        Assert.Null(login.Resume);
        await server.SendAsync(LoginOk(login.Cid, M1));
        await client.ExpectAsync("t [2] bob said: m1");

        await server.SendAsync(M2);
        await server.SendAsync(M2);
        await server.SendAsync(ServerFrames.Chat(new ChatPush(true, 3, "carol", 5, "g4", "t", 4, 1)));
        await server.SendAsync(Chat(7, "me", 3, "to carol", seq: 6));
        await client.ExpectAsync("group message[5]: t [3] carol said: g4");

        await client.SendAsync("chat:2:the ack of this one is lost");
        var chat = Assert.IsType<OneChatRequest>(await server.ReceiveAsync());
        server.Drop();
        await client.ExpectAsync("connection lost: reconnecting");

        await server.AcceptAsync();
        var relogin = Assert.IsType<LoginRequest>(await server.ReceiveAsync());
        Assert.Equal((7, "secret"), (relogin.Id, relogin.Password));
        Assert.Equal(
            [new ResumePoint(2, null, 2), new ResumePoint(3, null, 6), new ResumePoint(null, 5, 4)],
            relogin.Resume!.OrderBy(p => p.GroupId.HasValue).ThenBy(p => p.Peer));
        await server.SendAsync(LoginOk(relogin.Cid, M2, M3));
        await client.ExpectAsync("t [2] bob said: m3");
        await client.ExpectAsync("reconnected");

        var resent = await server.ReceiveAsync();
        Assert.Equal(chat, resent);
        await server.SendAsync(ServerFrames.Reply(MsgId.OneChat, resent.Cid, new MessageStored(9, 1))!);
        await client.ExpectAsync("sent (seq 9)");

        client.CloseInput();
        Assert.Equal(0, await client.WaitForExitAsync());
        Assert.Equal(1, client.Count("t [2] bob said: m2"));
        Assert.Equal(1, client.Count("t [7] me said: to carol"));
    }

    private static byte[] Chat(int from, string name, int to, string msg, long seq) =>
        ServerFrames.Chat(new ChatPush(false, from, name, to, msg, "t", seq, 1));

    private static byte[] LoginOk(Cid? cid, params byte[][] offline) =>
        ServerFrames.LoginOk(new LoginAck(7, "me", [], [], [.. offline.Select(f => (ReadOnlyMemory<byte>)f)], [], More: false), objects: true, cid);
}
