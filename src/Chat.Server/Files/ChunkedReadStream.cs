namespace Chat.Server.Files;

/// <summary>
/// A seekable read-only stream over a stored file kept in chunks of <see cref="DatabaseBlobStore.ChunkBytes"/> (every
/// one full but the last): one chunk is fetched at a time, by the index a position falls in, and only it is held.
/// Range requests seek it; a download never holds the whole file.
/// </summary>
internal sealed class ChunkedReadStream(long length, Func<int, CancellationToken, Task<byte[]>> fetch, IAsyncDisposable? owner = null) : Stream
{
    private const int ChunkBytes = DatabaseBlobStore.ChunkBytes;

    private byte[]? _chunk;
    private int _chunkIndex = -1;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get; set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (Position >= length || destination.IsEmpty)
        {
            return 0;
        }

        var index = (int)(Position / ChunkBytes);
        if (index != _chunkIndex)
        {
            _chunk = null;
            _chunk = await fetch(index, cancellationToken);
            _chunkIndex = index;
        }

        var offset = (int)(Position - ((long)index * ChunkBytes));
        var n = Math.Min(destination.Length, _chunk!.Length - offset);
        if (n <= 0)
        {
            throw new IOException($"chunk {index} is shorter than the file's size says");
        }

        _chunk.AsMemory(offset, n).CopyTo(destination);
        Position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => Position + offset,
        _ => length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (owner is not null)
        {
            await owner.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && owner is IDisposable disposable)
        {
            disposable.Dispose();
        }

        base.Dispose(disposing);
    }
}
