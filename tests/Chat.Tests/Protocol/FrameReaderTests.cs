using Chat.Tests.Infrastructure;
using System.Buffers;
using System.Text;
using Chat.Protocol;

namespace Chat.Tests.Protocol;

[Trait("Kind", "Unit")]
public sealed class FrameReaderTests
{
    private const int Limit = 64;

    /// <summary>Feeds <paramref name="chunks"/> one read at a time, as a pipe would, and returns every frame.</summary>
    private static (List<string> Frames, bool TooLarge) Feed(params byte[][] chunks)
    {
        var frames = new List<string>();
        var pending = Array.Empty<byte>();
        foreach (var chunk in chunks)
        {
            pending = [.. pending, .. chunk];
            var buffer = Segmented(pending);
            while (true)
            {
                var status = FrameReader.TryReadFrame(ref buffer, Limit, out var frame);
                if (status == FrameStatus.TooLarge) return (frames, true);
                if (status == FrameStatus.Incomplete) break;
                frames.Add(Encoding.UTF8.GetString(frame.ToArray()));
            }

            pending = buffer.ToArray();
        }

        return (frames, false);
    }

    /// <summary>A sequence of one-byte segments: every multi-segment path gets exercised.</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] bytes)
    {
        if (bytes.Length == 0) return ReadOnlySequence<byte>.Empty;
        var first = new ByteSegment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < bytes.Length; i++) last = last.Append(bytes.AsMemory(i, 1));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void Newline_and_nul_both_end_a_frame()
    {
        var (frames, _) = Feed(B("{\"a\":1}\n{\"b\":2}\0"));
        Assert.Equal(["{\"a\":1}", "{\"b\":2}"], frames);
    }

    [Fact]
    public void Crlf_drops_the_carriage_return()
    {
        var (frames, _) = Feed(B("{\"a\":1}\r\n"));
        Assert.Equal(["{\"a\":1}"], frames);
    }

    [Fact]
    public void Empty_frames_are_skipped()
    {
        var (frames, _) = Feed(B("\n\r\n\0\0{\"a\":1}\n\n"));
        Assert.Equal(["{\"a\":1}"], frames);
    }

    [Fact]
    public void A_frame_split_byte_by_byte_arrives_whole()
    {
        var bytes = B("{\"msgid\":13,\"cid\":\"é\"}\0");
        var (frames, _) = Feed([.. bytes.Select(b => new[] { b })]);
        Assert.Equal(["{\"msgid\":13,\"cid\":\"é\"}"], frames);
    }

    [Fact]
    public void Several_frames_in_one_read_all_arrive_in_order()
    {
        var (frames, _) = Feed(B("{\"n\":1}\0{\"n\":2}\n{\"n\":3}\r\n{\"n\":"), B("4}\n"));
        Assert.Equal(["{\"n\":1}", "{\"n\":2}", "{\"n\":3}", "{\"n\":4}"], frames);
    }

    [Fact]
    public void A_partial_frame_stays_in_the_buffer()
    {
        var buffer = new ReadOnlySequence<byte>(B("{\"a\":1}\n{\"b\""));
        Assert.Equal(FrameStatus.Frame, FrameReader.TryReadFrame(ref buffer, Limit, out _));
        Assert.Equal(FrameStatus.Incomplete, FrameReader.TryReadFrame(ref buffer, Limit, out _));
        Assert.Equal("{\"b\"", Encoding.UTF8.GetString(buffer.ToArray()));
    }

    [Fact]
    public void A_frame_at_the_limit_is_accepted()
    {
        var frame = new string('x', Limit);
        var (frames, tooLarge) = Feed(B(frame + "\n"));
        Assert.False(tooLarge);
        Assert.Equal([frame], frames);
    }

    [Fact]
    public void A_terminated_frame_over_the_limit_is_too_large()
    {
        var (frames, tooLarge) = Feed(B("{\"a\":1}\n" + new string('x', Limit + 1) + "\n"));
        Assert.True(tooLarge);
        Assert.Equal(["{\"a\":1}"], frames);
    }

    [Fact]
    public void An_unterminated_frame_is_too_large_as_soon_as_it_passes_the_limit()
    {
        var (_, notYet) = Feed(B(new string('x', Limit)));
        var (_, tooLarge) = Feed(B(new string('x', Limit)), B("x"));
        Assert.False(notYet);
        Assert.True(tooLarge);
    }
}
