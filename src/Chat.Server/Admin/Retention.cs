using System.ComponentModel.DataAnnotations;
using Chat.Persistence;
using Chat.Server.Files;
using Microsoft.Extensions.Options;

namespace Chat.Server.Admin;

/// <summary>Retention (section <c>Chat:Retention</c>).</summary>
public sealed class RetentionOptions
{
    public const string Section = "Chat:Retention";

    /// <summary>Entries older than this many days are erased, with their files, events and reactions. 0: kept for ever.</summary>
    [Range(0, 36_500)]
    public int Days { get; set; }

    /// <summary>How often a replica tries a pass (one replica at a time runs it).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Entries erased per transaction: small, so the message writer is never held back for long.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;

    /// <summary>Rest between two batches.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan Pause { get; set; } = TimeSpan.FromMilliseconds(50);
}

/// <summary>
/// Erases what is older than <see cref="RetentionOptions.Days"/>: every <see cref="RetentionOptions.Interval"/>, the
/// replica that takes the database lease <c>retention</c> (one at a time, on every engine) runs a pass — the oldest
/// entries a batch at a time, their files released first (erased when no other message holds them and they are nobody's
/// avatar), then the entries, the events naming them and their reactions in one short transaction. Off (nothing runs)
/// with 0 days.
/// </summary>
public sealed class RetentionService(
    IServiceScopeFactory scopes, FileService files, LeaseHolder leases, TimeProvider time, IOptions<RetentionOptions> options, ILogger<RetentionService> log)
    : BackgroundService
{
    public const string LeaseName = "retention";

    private static readonly TimeSpan LeaseTime = TimeSpan.FromMinutes(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Days == 0)
        {
            return;
        }

        // The first pass an interval after start (every replica starts its own timer; the lease picks one).
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                OperatorLog.RetentionFailed(log, ex);
            }
        }
    }

    /// <summary>One pass: the entries erased; null when retention is off or another replica holds the lease.</summary>
    public async Task<int?> RunOnceAsync(CancellationToken ct)
    {
        var o = options.Value;
        if (o.Days == 0 || !await leases.TryHoldAsync(LeaseName, LeaseTime, ct))
        {
            return null;
        }

        var erased = 0;
        try
        {
            var before = (time.GetUtcNow() - TimeSpan.FromDays(o.Days)).ToUnixTimeMilliseconds();
            while (true)
            {
                await using var scope = scopes.CreateAsyncScope();
                var store = scope.ServiceProvider.GetRequiredService<RetentionStore>();
                var keys = await store.OldestAsync(before, o.BatchSize, ct);
                foreach (var withFile in await store.WithFilesAsync(keys, ct))
                {
                    await files.ReleaseAsync(withFile.ConversationId, withFile.Seq, ct);
                }

                erased += await store.EraseAsync(keys, ct);
                if (keys.Count < o.BatchSize || !await leases.TryHoldAsync(LeaseName, LeaseTime, ct))
                {
                    break;
                }

                await Task.Delay(o.Pause, time, ct);
            }
        }
        finally
        {
            await leases.ReleaseAsync(LeaseName, CancellationToken.None);
            if (erased > 0)
            {
                OperatorLog.RetentionErased(log, erased, o.Days);
            }
        }

        return erased;
    }
}
