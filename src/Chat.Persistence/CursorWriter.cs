using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Chat.Domain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Persistence;

/// <summary>Delivered-cursors (<see cref="MarkWriter"/> on <c>cursors.delivered_seq</c>).</summary>
public sealed class CursorWriter(DatabaseProvider provider, IOptions<StoreOptions> options, TimeProvider time, ILogger<CursorWriter> logger)
    : MarkWriter(MarkColumn.Delivered, provider, options, time, logger), ICursorWriter;

/// <summary>Read marks (<see cref="MarkWriter"/> on <c>cursors.read_seq</c>): no database write per READ.</summary>
public sealed class ReadMarkWriter(DatabaseProvider provider, IOptions<StoreOptions> options, TimeProvider time, ILogger<ReadMarkWriter> logger)
    : MarkWriter(MarkColumn.Read, provider, options, time, logger), IReadMarkWriter;

/// <summary>A per-conversation seq column of <c>cursors</c> that writers only move forward.</summary>
public sealed record MarkColumn
{
    public static readonly MarkColumn Delivered = new("delivered_seq");
    public static readonly MarkColumn Read = new("read_seq");

    private MarkColumn(string name) => Name = name;

    /// <summary>The column, as spelled into SQL: one of the constants above, never input.</summary>
    public string Name { get; }
}

/// <summary>
/// Marks in <c>cursors</c>: <see cref="Advance"/> only remembers the highest seq per (user, conversation); every
/// <see cref="StoreOptions.CursorFlushInterval"/>, on <see cref="FlushAsync"/> and at shutdown, one statement
/// writes them all (the provider's statement). Marks never move backwards. A failed write keeps its entries for
/// the next flush.
/// </summary>
public abstract class MarkWriter(
    MarkColumn column,
    DatabaseProvider provider,
    IOptions<StoreOptions> options,
    TimeProvider time,
    ILogger logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private Dictionary<(int User, long Conversation), long> _advanced = [];
    private Dictionary<(int User, long Conversation), long> _spare = [];
    private readonly CursorColumns _columns = new();

    public void Advance(int userId, long conversationId, long seq)
    {
        lock (_gate)
        {
            ref var known = ref CollectionsMarshal.GetValueRefOrAddDefault(_advanced, (userId, conversationId), out var exists);
            if (!exists || seq > known)
            {
                known = seq;
            }
        }
    }

    /// <summary>When this returns, everything advanced before the call is written (or this throws).</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        if (await TryFlushAsync(ct) is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await TryFlushAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _flushing.Dispose();
        base.Dispose();
        GC.SuppressFinalize(this);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CursorFlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (await TryFlushAsync(CancellationToken.None) is not null)
                {
                    await Task.Delay(RetryDelay, time, stoppingToken); // database down: retry (and log) at a calmer pace
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return; // StopAsync writes what is left.
        }
    }

    /// <returns>The failure, already logged, or null.</returns>
    private async Task<Exception?> TryFlushAsync(CancellationToken ct)
    {
        // One flush at a time: whatever a running flush took is written, or merged back, before the next swap.
        await _flushing.WaitAsync(ct);
        Dictionary<(int User, long Conversation), long> batch;
        try
        {
            lock (_gate)
            {
                if (_advanced.Count == 0)
                {
                    return null;
                }

                batch = _advanced;
                _advanced = _spare;
            }

            try
            {
                await WriteAsync(batch, ct);
                return null;
            }
            catch (Exception ex)
            {
                logger.CursorFlushFailed(batch.Count, ex);
                lock (_gate)
                {
                    foreach (var (key, seq) in batch)
                    {
                        ref var known = ref CollectionsMarshal.GetValueRefOrAddDefault(_advanced, key, out var exists);
                        if (!exists || seq > known)
                        {
                            known = seq;
                        }
                    }
                }

                return ex;
            }
            finally
            {
                batch.Clear();
                _spare = batch;
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task WriteAsync(Dictionary<(int User, long Conversation), long> batch, CancellationToken ct)
    {
        _columns.Clear();
        foreach (var ((user, conversation), seq) in batch)
        {
            _columns.Add(user, conversation, seq);
        }

        await using var connection = await provider.OpenConnectionAsync(ct);
        await provider.WriteCursorsAsync(connection, column, _columns, ct);
    }
}

/// <summary>Cursors to write, one list per column (PostgreSQL sends them as arrays).</summary>
public sealed class CursorColumns
{
    public List<int> Users { get; } = [];

    public List<long> Conversations { get; } = [];

    public List<long> Seqs { get; } = [];

    public int Count => Users.Count;

    public void Add(int user, long conversation, long seq)
    {
        Users.Add(user);
        Conversations.Add(conversation);
        Seqs.Add(seq);
    }

    public void Clear()
    {
        Users.Clear();
        Conversations.Clear();
        Seqs.Clear();
    }
}
