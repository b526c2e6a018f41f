using System.Text.Json.Nodes;

namespace Chat.Tests.Client;

/// <summary>Resume and duplicate handling against a scripted server, which can repeat frames and lose ACKs at will.</summary>
public sealed class ClientResumeTests
{
    private const string M2 = """{"msgid":6,"id":2,"name":"bob","toid":7,"msg":"m2","time":"t","seq":2}""";

    [Fact]
    public async Task Repeated_seqs_are_dropped_and_a_reconnect_resumes_from_the_last_seen_seq_and_resends_with_the_same_cid()
    {
        await using var server = new ScriptedServer();
        await using var client = ClientProcess.Start(server.Port);
        await server.AcceptAsync();
        await client.ExpectAsync("choice:");
        await client.SendAsync("1");
        await client.SendAsync("7");
        await client.SendAsync("secret");

        var login = await server.ReceiveAsync();
        Assert.Equal((1, 7, "secret", 2), ((int)login["msgid"]!, (int)login["id"]!, (string)login["password"]!, (int)login["v"]!));
        Assert.Null(login["resume"]);
        await server.SendAsync($$"""
            {"msgid":2,"errno":0,"id":7,"name":"me","cid":"{{login["cid"]}}","offlinemsg":[
             {"msgid":6,"id":2,"name":"bob","toid":7,"msg":"m1","time":"t","seq":1}]}
            """.ReplaceLineEndings(""));
        await client.ExpectAsync("t [2] bob said: m1");

        await server.SendAsync(M2);
        await server.SendAsync(M2);
        await server.SendAsync("""{"msgid":10,"id":3,"name":"carol","groupid":5,"msg":"g4","time":"t","seq":4}""");
        await server.SendAsync("""{"msgid":6,"id":7,"name":"me","toid":3,"msg":"to carol","time":"t","seq":6}""");
        await client.ExpectAsync("group message[5]: t [3] carol said: g4");

        await client.SendAsync("chat:2:the ack of this one is lost");
        var chat = await server.ReceiveAsync();
        server.Drop();
        await client.ExpectAsync("connection lost: reconnecting");

        await server.AcceptAsync();
        var relogin = await server.ReceiveAsync();
        Assert.Equal((1, 7, "secret"), ((int)relogin["msgid"]!, (int)relogin["id"]!, (string)relogin["password"]!));
        Assert.Equal(
            ["""{"groupid":5,"seq":4}""", """{"peer":2,"seq":2}""", """{"peer":3,"seq":6}"""],
            relogin["resume"]!.AsArray().Select(p => p!.ToJsonString()).Order(StringComparer.Ordinal));
        await server.SendAsync($$"""
            {"msgid":2,"errno":0,"id":7,"name":"me","cid":"{{relogin["cid"]}}","offlinemsg":[{{M2}},
             {"msgid":6,"id":2,"name":"bob","toid":7,"msg":"m3","time":"t","seq":3}]}
            """.ReplaceLineEndings(""));
        await client.ExpectAsync("t [2] bob said: m3");
        await client.ExpectAsync("reconnected");

        var resent = await server.ReceiveAsync();
        Assert.Equal(chat.ToJsonString(), resent.ToJsonString());
        await server.SendAsync($$"""{"msgid":11,"cid":"{{resent["cid"]}}","errno":0,"seq":9,"ts":1}""");
        await client.ExpectAsync("sent (seq 9)");

        client.CloseInput();
        Assert.Equal(0, await client.WaitForExitAsync());
        Assert.Equal(1, client.Count("t [2] bob said: m2"));
        Assert.Equal(1, client.Count("t [7] me said: to carol"));
    }
}
