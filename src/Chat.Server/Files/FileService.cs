using System.Security.Cryptography;
using Chat.Domain;
using Microsoft.Extensions.Options;

namespace Chat.Server.Files;

/// <summary>
/// Files for the rest of the server: the chat handlers check that a file sent is the sender's own and link it to the
/// message that carries it; the sweeper and RECALL erase. Each call runs in a DI scope of its own (a fresh DbContext).
/// </summary>
public sealed class FileService(IServiceScopeFactory scopes, IBlobStore blobs, TimeProvider time, ILogger<FileService> log)
{
    /// <summary>A new file id: 128 random bits, lower-case hex.</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>32 lower-case hex digits: anything else names no file and is not looked up.</summary>
    public static bool IsId(string? id) => id is { Length: 32 } && id.AsSpan().IndexOfAnyExcept(HexDigits) < 0;

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>The file, when <paramref name="userId"/> uploaded it; null otherwise (no such file, or someone else's: the same answer).</summary>
    public async Task<FileRecord?> OwnedAsync(int userId, string fileId, CancellationToken ct)
    {
        if (!IsId(fileId))
        {
            return null;
        }

        await using var scope = scopes.CreateAsyncScope();
        var file = await scope.ServiceProvider.GetRequiredService<IFileCatalog>().FindAsync(fileId, ct);
        return file?.UploaderId == userId ? file : null;
    }

    /// <summary>The message at <paramref name="seq"/> carries the file: its conversation's parties may now read it.</summary>
    public async Task LinkAsync(long conversationId, long seq, string fileId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IFileCatalog>().LinkAsync(conversationId, seq, fileId, time.GetUtcNow().UtcDateTime, ct);
    }

    /// <summary>The file counts as sent (an avatar): the sweep of unsent files leaves it.</summary>
    public async Task MarkSentAsync(string fileId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IFileCatalog>().MarkSentAsync(fileId, time.GetUtcNow().UtcDateTime, ct);
    }

    /// <summary>
    /// <b>The hook for RECALL</b>: call it once the message at <paramref name="seq"/> is a tombstone. Its file is
    /// erased (bytes and record) when no other message holds it and it is nobody's avatar; true when it was.
    /// </summary>
    public async Task<bool> ReleaseAsync(long conversationId, long seq, CancellationToken ct)
    {
        string? orphan;
        await using (var scope = scopes.CreateAsyncScope())
        {
            orphan = await scope.ServiceProvider.GetRequiredService<IFileCatalog>().UnlinkAsync(conversationId, seq, ct);
        }

        if (orphan is null)
        {
            return false;
        }

        await EraseAsync(orphan, ct);
        return true;
    }

    /// <summary>
    /// Erases a file: its bytes, then its record. The hook for RECALL (a recalled message's file is erased when no
    /// other message holds it) and for the sweep of files never sent.
    /// </summary>
    public async Task EraseAsync(string fileId, CancellationToken ct)
    {
        await blobs.DeleteAsync(fileId, ct);
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IFileCatalog>().DeleteAsync(fileId, ct);
        FileLog.Erased(log, fileId);
    }
}

/// <summary>Erases files never sent (nor made an avatar) once <see cref="FilesOptions.UnsentLifetime"/> has passed.</summary>
public sealed class UnsentFileSweeper(IServiceScopeFactory scopes, FileService files, TimeProvider time, IOptions<FilesOptions> options, ILogger<UnsentFileSweeper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                FileLog.SweepFailed(log, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass: every unsent file past its lifetime, a hundred at a time.</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        var before = time.GetUtcNow().UtcDateTime - options.Value.UnsentLifetime;
        while (true)
        {
            IReadOnlyList<string> ids;
            await using (var scope = scopes.CreateAsyncScope())
            {
                ids = await scope.ServiceProvider.GetRequiredService<IFileCatalog>().UnsentAsync(before, 100, ct);
            }

            foreach (var id in ids)
            {
                await files.EraseAsync(id, ct);
            }

            if (ids.Count < 100)
            {
                return;
            }
        }
    }
}
