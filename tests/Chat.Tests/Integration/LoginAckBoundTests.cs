using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Chat.Protocol;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Integration;

/// <summary>
/// LOGIN_ACK is bounded in bytes: 2,000 offline messages of 4,096 CJK characters (24 MB) once made one 24.9 MB frame.
/// Now LOGIN_ACK stays within <c>Chat:MaxLoginAckBytes</c> and says <c>"more":true</c>, and the rest follow as chat frames.
/// </summary>
public sealed class LoginAckBoundTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private const int Messages = 2000;
    private const int MaxLoginAckBytes = 256 * 1024;

    [Fact]
    public async Task Two_thousand_large_offline_messages_come_as_a_bounded_LOGIN_ACK_then_chat_frames_and_all_arrive()
    {
        var port = fixture.Replica.ChatPort;
        await using var alice = await TestClient.LoggedInAsync(port, TestClient.Unique("alice"));
        var bobName = TestClient.Unique("bob");
        int bobId;
        await using (var setup = await TestClient.ConnectAsync(port))
        {
            bobId = await setup.RegisterAsync(bobName, "pw-" + bobName);
        }

        var text = string.Concat(Enumerable.Repeat("漢字", 2048)); // 4,096 characters, 12,288 bytes of UTF-8
        const int window = 32;
        for (var sent = 0; sent < Messages; sent += window)
        {
            for (var i = sent; i < sent + window; i++)
            {
                await alice.SendAsync(new OneChatRequest(bobId, text) { Cid = Cid.From(i.ToString(System.Globalization.CultureInfo.InvariantCulture)) });
            }

            for (var i = 0; i < window; i++)
            {
                Assert.Equal(0, (int)(await alice.ReceiveAsync(11))["errno"]!);
            }
        }

        // Bob logs in on a raw socket, so each frame's size on the wire is measured.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(RequestWriter.ToFrame(new LoginRequest(bobId, "pw-" + bobName, Version: 2)));
        var reader = PipeReader.Create(stream);
        var seqs = new HashSet<long>();
        var largest = 0L;
        JsonObject? ack = null;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (seqs.Count < Messages)
        {
            var result = await reader.ReadAsync(deadline.Token);
            var buffer = result.Buffer;
            while (buffer.PositionOf((byte)'\n') is { } end)
            {
                var line = buffer.Slice(0, end);
                largest = Math.Max(largest, line.Length);
                var frame = JsonNode.Parse(line.ToArray())!.AsObject();
                buffer = buffer.Slice(buffer.GetPosition(1, end));
                if (ack is null)
                {
                    ack = frame;
                    Assert.Equal((int)MsgId.LoginAck, (int)ack["msgid"]!);
                    Assert.Equal(0, (int)ack["errno"]!);
                    Assert.True(line.Length <= MaxLoginAckBytes, $"LOGIN_ACK is {line.Length} bytes");
                    Assert.True((bool?)ack["more"] == true, "LOGIN_ACK says more follow");
                    foreach (var message in ack["offlinemsg"]?.AsArray() ?? [])
                    {
                        Assert.Equal(text, (string)message!["msg"]!);
                        seqs.Add((long)message["seq"]!);
                    }

                    continue;
                }

                Assert.Equal((int)MsgId.OneChat, (int)frame["msgid"]!);
                Assert.Equal(text, (string)frame["msg"]!);
                seqs.Add((long)frame["seq"]!);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            Assert.False(result.IsCompleted, $"the connection closed after {seqs.Count} messages");
        }

        Assert.Equal(Enumerable.Range(1, Messages).Select(i => (long)i), seqs.Order());
        Assert.True(largest <= MaxLoginAckBytes, $"the largest frame was {largest} bytes");
        await reader.CompleteAsync();
    }
}
