namespace Chat.Server.Files;

/// <summary>The body went past what the upload may take (<see cref="LimitedBody"/>'s limit).</summary>
internal sealed class BodyLimitException(long limit) : Exception($"more than {limit} bytes")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// An upload's body as the store reads it: the bytes already read for sniffing, then the rest of the request, counted;
/// reading past <c>limit</c> bytes throws <see cref="BodyLimitException"/> (the request said no length, or lied).
/// </summary>
internal sealed class LimitedBody(ReadOnlyMemory<byte> head, Stream rest, long limit) : Stream
{
    private int _headUsed;

    public long Count { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => Count; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n;
        if (_headUsed < head.Length)
        {
            n = Math.Min(buffer.Length, head.Length - _headUsed);
            head.Slice(_headUsed, n).CopyTo(buffer);
            _headUsed += n;
        }
        else
        {
            n = await rest.ReadAsync(buffer, cancellationToken);
        }

        Count += n;
        if (Count > limit)
        {
            throw new BodyLimitException(limit);
        }

        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
