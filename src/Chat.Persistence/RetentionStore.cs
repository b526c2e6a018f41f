using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Chat.Persistence;

/// <summary>A row of a conversation's log.</summary>
public readonly record struct LogKey(long ConversationId, long Seq);

/// <summary>
/// Retention (<c>Chat:Retention:Days</c>, issue 24): the oldest entries, found by time (<c>ix_messages_ts</c>), and
/// their erasure in one short transaction per batch — the entries, the events that name them (whatever their age) and
/// the reactions on them. Files are released first by the caller (their bytes may live outside the database). The
/// same SQL on every engine; the message writer's rows are never touched, so it is never held back for long. One per scope.
/// </summary>
public sealed class RetentionStore(ChatDbContext db)
{
    /// <summary>Up to <paramref name="limit"/> entries (messages and events) stamped before <paramref name="before"/> (ms since the epoch), oldest first.</summary>
    public async Task<IReadOnlyList<LogKey>> OldestAsync(long before, int limit, CancellationToken ct) =>
        (await db.Messages.AsNoTracking()
            .Where(m => m.Ts < before)
            .OrderBy(m => m.Ts)
            .Take(limit)
            .Select(m => new { m.ConversationId, m.Seq })
            .ToListAsync(ct))
        .ConvertAll(m => new LogKey(m.ConversationId, m.Seq));

    /// <summary>Those of <paramref name="keys"/> that carry a file.</summary>
    public async Task<IReadOnlyList<LogKey>> WithFilesAsync(IReadOnlyList<LogKey> keys, CancellationToken ct)
    {
        var found = new List<LogKey>();
        if (keys.Count == 0)
        {
            return found;
        }

        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = connection.CreateCommand();
            var sql = new StringBuilder("SELECT conversation_id, seq FROM message_files WHERE ");
            command.CommandText = Matching(sql, command, keys, "seq").ToString();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                found.Add(new LogKey(reader.GetInt64(0), reader.GetInt64(1)));
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        return found;
    }

    /// <summary>Erases the entries, the events naming them and their reactions, in one transaction; returns the entries erased (those events included).</summary>
    public async Task<int> EraseAsync(IReadOnlyList<LogKey> keys, CancellationToken ct)
    {
        if (keys.Count == 0)
        {
            return 0;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var connection = db.Database.GetDbConnection();
        var dbTransaction = transaction.GetDbTransaction();
        await Run("DELETE FROM reactions WHERE ", "seq");
        var erased = await Run("DELETE FROM messages WHERE kind <> 0 AND ref_seq IS NOT NULL AND ", "ref_seq");
        erased += await Run("DELETE FROM messages WHERE ", "seq");
        await transaction.CommitAsync(ct);
        return erased;

        async Task<int> Run(string start, string seqColumn)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = dbTransaction;
            command.CommandText = Matching(new StringBuilder(start), command, keys, seqColumn).ToString();
            return await command.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary><c>((conversation_id = c AND col IN (s, ...)) OR ...)</c>, one term per conversation.</summary>
    private static StringBuilder Matching(StringBuilder sql, DbCommand command, IReadOnlyList<LogKey> keys, string seqColumn)
    {
        sql.Append('(');
        var first = true;
        foreach (var conversation in keys.GroupBy(k => k.ConversationId))
        {
            sql.Append(first ? "(" : " OR (").Append("conversation_id = ").Append(RowsAppendStatement.Parameter(command, conversation.Key))
                .Append(" AND ").Append(seqColumn).Append(" IN (");
            var firstSeq = true;
            foreach (var key in conversation)
            {
                sql.Append(firstSeq ? "" : ", ").Append(RowsAppendStatement.Parameter(command, key.Seq));
                firstSeq = false;
            }

            sql.Append("))");
            first = false;
        }

        return sql.Append(')');
    }
}
