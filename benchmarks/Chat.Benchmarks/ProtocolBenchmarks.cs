using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Chat.Protocol;

namespace Chat.Benchmarks;

/// <summary>
/// The protocol's hot path, per frame: cutting frames out of what a socket read, reading a request, writing the
/// chat frame every recipient gets and the ACK its sender gets.
/// </summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks
{
    private const int Frames = 64;
    private ReadOnlySequence<byte> _reads;
    private ReadOnlySequence<byte> _oneChat;
    private ChatPush _push;

    [GlobalSetup]
    public void Setup()
    {
        var frame = RequestWriter.ToFrame(new OneChatRequest(7, "hello there, how are you today?", "2026-11-30 10:00:00") { Cid = Cid.From(12345) });
        _oneChat = new ReadOnlySequence<byte>(frame.AsMemory(0, frame.Length - 1));
        _reads = new ReadOnlySequence<byte>([.. Enumerable.Repeat(frame, Frames).SelectMany(f => f)]);
        _push = new ChatPush(false, 3, "alice", 7, "hello there, how are you today?", "2026-11-30 10:00:00", 42, 1_795_255_200_000);
    }

    /// <summary>64 coalesced ONE_CHAT frames, as one socket read: per frame, divide by 64.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public int Framing()
    {
        var buffer = _reads;
        var count = 0;
        while (FrameReader.TryReadFrame(ref buffer, 64 * 1024, out _) == FrameStatus.Frame)
        {
            count++;
        }

        return count;
    }

    [Benchmark]
    public Request? ReadRequest() => RequestReader.TryParse(_oneChat, out var request, out _) ? request : null;

    [Benchmark]
    public byte[] WriteChatFrame() => ServerFrames.Chat(_push);

    [Benchmark]
    public byte[]? WriteAck() => ServerFrames.Reply(MsgId.OneChat, Cid.From(12345), new MessageStored(42, 1_795_255_200_000));
}
