using System.Buffers;
using System.Data.Common;
using System.Text;
using System.Text.Json;
using Chat.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Chat.Persistence;

/// <summary>
/// Webhooks are on (<c>Chat:Webhooks:Url</c> is set): registered only then. A registration and a ban add their event
/// to the outbox in their own transaction when this service exists; the message writer adds <c>message.offline</c>
/// rows to its batch's transaction (<see cref="OutboxRows"/>). The rows' shapes are here, in one place.
/// </summary>
public sealed class WebhookOutbox
{
    public const string MessageOffline = "message.offline";
    public const string UserRegistered = "user.registered";
    public const string UserBanned = "user.banned";

    /// <summary>Characters of a message's text an event carries at most (a preview for a notification).</summary>
    public const int PreviewChars = ReplyQuote.MaxChars;

    /// <summary>A new delivery id: 128 random bits, lower-case hex.</summary>
    public static string NewId() => Guid.NewGuid().ToString("N");

    public static WebhookOutboxEntity Registered(int userId, string name, long ts) =>
        Row(UserRegistered, ts, w =>
        {
            w.WriteNumber("user", userId);
            w.WriteString("name", name);
        });

    public static WebhookOutboxEntity Banned(int userId, Ban ban, long ts) =>
        Row(UserBanned, ts, w =>
        {
            w.WriteNumber("user", userId);
            w.WriteString("reason", ban.Reason);
            if (ban.Until is { } until)
            {
                w.WriteString("until", until.ToUniversalTime());
            }
            else
            {
                w.WriteNull("until");
            }
        });

    /// <summary>A message stored at <paramref name="seq"/> for <paramref name="userId"/>, who had no session online.</summary>
    public static WebhookOutboxEntity Offline(int userId, ChatMessage message, long seq) =>
        Row(MessageOffline, message.Ts, w =>
        {
            w.WriteNumber("user", userId);
            w.WriteNumber("from", message.SenderId);
            w.WriteString("name", message.SenderName);
            if (message.IsGroup)
            {
                w.WriteNumber("groupid", message.TargetId);
            }

            w.WriteNumber("seq", seq);
            w.WriteString("msg", ReplyQuote.Of(seq, message.SenderId, message.SenderName, message.Body, false).Text);
            if (message.File is { } file)
            {
                w.WriteString("file", file.Name);
            }
        });

    private static WebhookOutboxEntity Row(string type, long ts, Action<Utf8JsonWriter> fields)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            fields(w);
            w.WriteEndObject();
        }

        return new WebhookOutboxEntity
        {
            Id = NewId(),
            Type = type,
            Payload = Encoding.UTF8.GetString(buffer.WrittenSpan),
            CreatedAt = ts,
            DueAt = ts,
        };
    }
}

/// <summary>
/// The writer's side of the outbox: which of a batch's recipients are offline (asked once per batch), and the
/// <c>message.offline</c> rows of its fresh messages, inserted in the batch's transaction after the messages (their
/// seqs known by then). The same text on every engine.
/// </summary>
internal static class OutboxRows
{
    private const int Columns = 8;
    private const int RowsPerCommand = 100;

    /// <summary>Fills <see cref="AppendBatch.Offline"/>; a failure (Redis away) costs the batch its events, never its messages.</summary>
    public static async Task FindOfflineAsync(IOfflineRecipients offline, AppendBatch batch, ILogger logger, CancellationToken ct)
    {
        batch.Offline.Clear();
        var messages = new ChatMessage[batch.Count];
        for (var p = 0; p < batch.Count; p++)
        {
            messages[p] = batch[p];
        }

        try
        {
            batch.Offline.AddRange(await offline.FindAsync(messages, ct).WaitAsync(TimeSpan.FromSeconds(2), ct));
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            batch.Offline.Clear();
            logger.OfflineLookupFailed(batch.Count, ex);
        }
    }

    /// <summary>Inserts the rows; <paramref name="commit"/> ends the last command (MySQL's transaction in text), run alone when there are no rows.</summary>
    public static async Task ApplyAsync(DbConnection connection, DbTransaction? transaction, AppendBatch batch, CancellationToken ct, string commit = "")
    {
        var rows = new List<WebhookOutboxEntity>();
        for (var p = 0; p < batch.Offline.Count && p < batch.Count; p++)
        {
            if (batch.Offline[p] is { Count: > 0 } users && batch.Kinds[p] == (short)EntryKind.Message && batch.FreshSeq(p) is { } seq)
            {
                rows.AddRange(users.Select(u => WebhookOutbox.Offline(u, batch[p], seq)));
            }
        }

        var chunks = rows.Chunk(RowsPerCommand).ToList();
        if (chunks.Count == 0 && commit.Length > 0)
        {
            await using var alone = connection.CreateCommand();
            alone.Transaction = transaction;
            alone.CommandText = commit;
            await alone.ExecuteNonQueryAsync(ct);
            return;
        }

        var sql = new StringBuilder();
        foreach (var chunk in chunks)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            sql.Clear().Append("INSERT INTO webhook_outbox (id, type, payload, created_at, due_at, attempts, dead, last_error) VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                string P(object? value) => RowsAppendStatement.Parameter(command, value);
                var r = chunk[i];
                sql.Append(i == 0 ? "(" : ", (").Append(P(r.Id)).Append(", ").Append(P(r.Type)).Append(", ").Append(P(r.Payload))
                    .Append(", ").Append(P(r.CreatedAt)).Append(", ").Append(P(r.DueAt)).Append(", ").Append(P(0)).Append(", ")
                    .Append(P(false)).Append(", NULL)");
            }

            command.CommandText = sql.Append(";\n").Append(chunk == chunks[^1] ? commit : "").ToString();
            await command.ExecuteNonQueryAsync(ct);
        }
    }
}

/// <summary>The dispatcher's reads and changes of the outbox; and the group members the offline lookup needs. One per scope.</summary>
public sealed class WebhookStore(ChatDbContext db)
{
    /// <summary>Rows due by <paramref name="now"/> (not dead-lettered), the longest waiting first.</summary>
    public async Task<IReadOnlyList<WebhookOutboxEntity>> DueAsync(long now, int limit, CancellationToken ct) =>
        await db.WebhookOutbox.AsNoTracking()
            .Where(o => !o.Dead && o.DueAt <= now)
            .OrderBy(o => o.DueAt)
            .Take(limit)
            .ToListAsync(ct);

    /// <summary>The receiver took them: they go.</summary>
    public async Task DeliveredAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        if (ids.Count > 0)
        {
            await db.WebhookOutbox.Where(o => ids.Contains(o.Id)).ExecuteDeleteAsync(ct);
        }
    }

    /// <summary>An attempt failed: tried again at <paramref name="dueAt"/>, or dead-lettered.</summary>
    public Task FailedAsync(string id, int attempts, long dueAt, bool dead, string error, CancellationToken ct)
    {
        var lastError = error.Length > 256 ? error[..256] : error;
        return db.WebhookOutbox.Where(o => o.Id == id).ExecuteUpdateAsync(
            s => s.SetProperty(o => o.Attempts, attempts).SetProperty(o => o.DueAt, dueAt).SetProperty(o => o.Dead, dead)
                .SetProperty(o => o.LastError, lastError),
            ct);
    }

    /// <summary>The members of each group.</summary>
    public async Task<ILookup<int, int>> MembersAsync(IReadOnlyCollection<int> groupIds, CancellationToken ct) =>
        (await db.GroupMembers.AsNoTracking()
            .Where(m => groupIds.Contains(m.GroupId))
            .Select(m => new { m.GroupId, m.UserId })
            .ToListAsync(ct))
        .ToLookup(m => m.GroupId, m => m.UserId);
}

/// <summary>
/// Leases in the database (<see cref="LeaseEntity"/>): one replica at a time holds a name. A conditional UPDATE takes
/// or renews it (held by us, or expired); the row is inserted the first time. One per scope.
/// </summary>
public sealed class LeaseStore(ChatDbContext db)
{
    /// <summary>True when <paramref name="holder"/> holds <paramref name="name"/> until <paramref name="now"/> + <paramref name="duration"/>.</summary>
    public async Task<bool> TryHoldAsync(string name, string holder, long now, TimeSpan duration, CancellationToken ct)
    {
        var until = now + (long)duration.TotalMilliseconds;
        if (await TakeAsync(name, holder, now, until, ct))
        {
            return true;
        }

        if (await db.Leases.AnyAsync(l => l.Name == name, ct))
        {
            return false;
        }

        try
        {
            db.Leases.Add(new LeaseEntity { Name = name, Holder = holder, ExpiresAt = until });
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another replica inserted it first: take it the usual way (it will not be free).
            db.ChangeTracker.Clear();
            return await TakeAsync(name, holder, now, until, ct);
        }
    }

    /// <summary>Lets it go at once (a replica stopping), when <paramref name="holder"/> holds it.</summary>
    public Task ReleaseAsync(string name, string holder, CancellationToken ct) =>
        db.Leases.Where(l => l.Name == name && l.Holder == holder).ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, 0L), ct);

    private async Task<bool> TakeAsync(string name, string holder, long now, long until, CancellationToken ct) =>
        await db.Leases
            .Where(l => l.Name == name && (l.Holder == holder || l.ExpiresAt < now))
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Holder, holder).SetProperty(l => l.ExpiresAt, until), ct) == 1;
}

internal static partial class PersistenceLog
{
    [LoggerMessage(EventId = 2030, Level = LogLevel.Warning,
        Message = "Finding which recipients of a batch of {Count} are offline failed: the batch is stored without message.offline events")]
    public static partial void OfflineLookupFailed(this ILogger logger, int count, Exception exception);
}
