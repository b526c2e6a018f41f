using System.Buffers;

namespace Chat.Protocol;

public enum FrameStatus
{
    /// <summary>A complete frame was read.</summary>
    Frame,

    /// <summary>No complete frame yet; read more.</summary>
    Incomplete,

    /// <summary>A frame longer than the limit: answer with an error and close.</summary>
    TooLarge,
}

/// <summary>
/// Splits the client byte stream into frames. A frame ends with <c>\n</c> or <c>\0</c> (the seed client sends
/// NUL-terminated strings); a <c>\r</c> before the terminator is dropped and empty frames are skipped.
/// Pure: no socket, no allocation.
/// </summary>
public static class FrameReader
{
    private static ReadOnlySpan<byte> Terminators => "\n\0"u8;

    /// <summary>
    /// Reads the next frame from <paramref name="buffer"/> and slices it off. On <see cref="FrameStatus.Incomplete"/>
    /// the buffer keeps the partial frame; the caller advances to <c>buffer.Start</c>, examined to its end.
    /// </summary>
    public static FrameStatus TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrameBytes, out ReadOnlySequence<byte> frame)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadToAny(out frame, Terminators, advancePastDelimiter: true))
        {
            if (frame.Length > maxFrameBytes)
            {
                return FrameStatus.TooLarge;
            }

            if (!frame.IsEmpty && EndsWithCarriageReturn(frame))
            {
                frame = frame.Slice(0, frame.Length - 1);
            }

            if (!frame.IsEmpty)
            {
                buffer = buffer.Slice(reader.Position);
                return FrameStatus.Frame;
            }
        }

        buffer = buffer.Slice(reader.Position);
        frame = default;
        return buffer.Length > maxFrameBytes ? FrameStatus.TooLarge : FrameStatus.Incomplete;
    }

    private static bool EndsWithCarriageReturn(in ReadOnlySequence<byte> frame)
    {
        var last = frame.Slice(frame.Length - 1);
        return last.FirstSpan[0] == (byte)'\r';
    }
}
