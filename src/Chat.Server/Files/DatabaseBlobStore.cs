using Chat.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Chat.Server.Files;

/// <summary>
/// Files in the chat database (<c>Chat:Files:Store</c> = database): rows of at most <see cref="ChunkBytes"/>, so the
/// cluster, its backups and its failover cover files with nothing more to run. Every chunk but the last is full, so
/// a position's chunk is found by division.
/// </summary>
public sealed class DatabaseBlobStore(IServiceScopeFactory scopes) : IBlobStore
{
    public const int ChunkBytes = 1024 * 1024;

    public async Task WriteAsync(string fileId, BlobPart part, Stream content, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        // One buffer for every full chunk (EF is done with it once the row is saved); the last one is copied to its size.
        var buffer = new byte[ChunkBytes];
        for (var index = 0; ; index++)
        {
            var filled = await content.ReadAtLeastAsync(buffer, ChunkBytes, throwOnEndOfStream: false, ct);
            if (filled == 0 && index > 0)
            {
                return;
            }

            db.FileChunks.Add(new FileChunkEntity { FileId = fileId, Part = (short)part, Index = index, Data = filled == ChunkBytes ? buffer : buffer[..filled] });
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            if (filled < ChunkBytes)
            {
                return;
            }
        }
    }

    public Stream Open(string fileId, BlobPart part, long length)
    {
        // The scope (and its DbContext) lives as long as the stream: one download reads its chunks in turn.
        var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var shortPart = (short)part;
        return new ChunkedReadStream(length, async (index, ct) =>
            await db.FileChunks.AsNoTracking()
                .Where(c => c.FileId == fileId && c.Part == shortPart && c.Index == index)
                .Select(c => c.Data)
                .FirstOrDefaultAsync(ct) ?? throw new IOException($"file {fileId} has no chunk {index}"), scope);
    }

    public async Task DeleteAsync(string fileId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        await db.FileChunks.Where(c => c.FileId == fileId).ExecuteDeleteAsync(ct);
    }
}
