using System.Buffers;

namespace Chat.Tests.Infrastructure;

/// <summary>One piece of a hand-built multi-segment <see cref="ReadOnlySequence{T}"/>, as a pipe may hand frames over.</summary>
public sealed class ByteSegment : ReadOnlySequenceSegment<byte>
{
    public ByteSegment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public ByteSegment Append(ReadOnlyMemory<byte> memory)
    {
        var next = new ByteSegment(memory, RunningIndex + Memory.Length);
        Next = next;
        return next;
    }
}
