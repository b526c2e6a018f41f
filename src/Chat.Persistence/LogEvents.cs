using System.Data.Common;
using System.Globalization;
using System.Text;
using Chat.Domain;

namespace Chat.Persistence;

/// <summary>
/// The conversation is a log (issue 21): the statements that make a batch's stored events change the messages they
/// name, run in the writer's transaction right after the entries are inserted, in seq order. An edit replaces the
/// text (unless the message was recalled: then the edit's own text is erased too); a recall erases the text, the
/// text of its edits and its reactions, and leaves a tombstone; a reaction is one row per message, user and emoji.
/// A reaction, and a recall, also refold the message's <see cref="MessageEntity.Reactions"/> from its rows.
/// Every engine runs the same text but for <paramref name="InsertIgnore"/>'s and <paramref name="Fold"/>'s forms.
/// </summary>
/// <param name="InsertIgnore">Opens an insert that skips a row already there (<c>{0}</c>: the rest of the statement).</param>
/// <param name="Fold">
/// The reactions of message <c>{1}</c> in conversation <c>{0}</c> as <see cref="ReactionFold"/> reads them (null when none).
/// </param>
internal sealed record LogEvents(string InsertIgnore, string Fold)
{
    /// <summary>Events a command carries at most (about six parameters each).</summary>
    private const int PerCommand = 64;

    public static readonly LogEvents MySql = new(
        "INSERT IGNORE INTO {0}",
        "(SELECT GROUP_CONCAT(CONCAT(user_id, ':', emoji) ORDER BY ts, user_id SEPARATOR ' ') FROM reactions WHERE conversation_id = {0} AND seq = {1})");

    public static readonly LogEvents Sqlite = new(
        "INSERT OR IGNORE INTO {0}",
        "(SELECT group_concat(user_id || ':' || emoji, ' ') FROM (SELECT user_id, emoji FROM reactions WHERE conversation_id = {0} AND seq = {1} ORDER BY ts, user_id))");

    public static readonly LogEvents Postgres = new(
        "INSERT INTO {0} ON CONFLICT DO NOTHING",
        "(SELECT string_agg(user_id || ':' || emoji, ' ' ORDER BY ts, user_id) FROM reactions WHERE conversation_id = {0} AND seq = {1})");

    /// <summary>
    /// Applies the batch's fresh events (<see cref="AppendBatch.FreshEvents"/>); <paramref name="commit"/> ends the last
    /// command (MySQL's transaction in text), or commits nothing when empty.
    /// </summary>
    public async Task ApplyAsync(DbConnection connection, DbTransaction? transaction, AppendBatch batch, CancellationToken ct, string commit = "")
    {
        var sql = new StringBuilder();
        var chunks = batch.FreshEvents.Chunk(PerCommand).ToList();
        foreach (var chunk in chunks)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            sql.Clear();
            foreach (var p in chunk)
            {
                Append(sql, command, batch, p);
            }

            command.CommandText = sql.Append(chunk == chunks[^1] ? commit : "").ToString();
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    private void Append(StringBuilder sql, DbCommand command, AppendBatch batch, int p)
    {
        string P(object? value) => RowsAppendStatement.Parameter(command, value);

        var c = P(batch.Conversations[p]);
        var target = P(batch.Refs[p]);
        switch ((EntryKind)batch.Kinds[p])
        {
            case EntryKind.Edit:
                var no = P(false);
                var yes = P(true);
                sql.Append("UPDATE messages SET body = ").Append(P(batch.Bodies[p])).Append(", edited_ts = ").Append(P(batch.Timestamps[p]))
                    .Append(" WHERE conversation_id = ").Append(c).Append(" AND seq = ").Append(target)
                    .Append(" AND kind = 0 AND recalled = ").Append(no).Append(";\n");
                // Recalled meanwhile (the check before the append raced a recall): the edit's own text goes too.
                sql.Append("UPDATE messages SET body = '', recalled = ").Append(yes)
                    .Append(" WHERE conversation_id = ").Append(c).Append(" AND seq = ").Append(P(batch.SeqAt(p)))
                    .Append(" AND EXISTS (SELECT 1 FROM (SELECT seq FROM messages WHERE conversation_id = ").Append(c)
                    .Append(" AND seq = ").Append(target).Append(" AND recalled = ").Append(yes).Append(") r);\n");
                break;
            case EntryKind.Recall:
                sql.Append("UPDATE messages SET body = '', edited_ts = NULL, reactions = NULL, recalled = ").Append(P(true))
                    .Append(" WHERE conversation_id = ").Append(c).Append(" AND (seq = ").Append(target)
                    .Append(" OR (ref_seq = ").Append(target).Append(" AND kind = 1));\n");
                sql.Append("DELETE FROM reactions WHERE conversation_id = ").Append(c).Append(" AND seq = ").Append(target).Append(";\n");
                break;
            case EntryKind.React:
                var row = new StringBuilder("reactions (conversation_id, seq, user_id, emoji, ts) SELECT ")
                    .Append(c).Append(", ").Append(target).Append(", ").Append(P(batch.Senders[p])).Append(", ").Append(P(batch.Bodies[p]))
                    .Append(", ").Append(P(batch.Timestamps[p]))
                    .Append(" FROM messages WHERE conversation_id = ").Append(c).Append(" AND seq = ").Append(target)
                    .Append(" AND kind = 0 AND recalled = ").Append(P(false));
                sql.Append(string.Format(CultureInfo.InvariantCulture, InsertIgnore, row)).Append(";\n");
                Refold(sql, c, target);
                break;
            case EntryKind.Unreact:
                sql.Append("DELETE FROM reactions WHERE conversation_id = ").Append(c).Append(" AND seq = ").Append(target)
                    .Append(" AND user_id = ").Append(P(batch.Senders[p])).Append(" AND emoji = ").Append(P(batch.Bodies[p])).Append(";\n");
                Refold(sql, c, target);
                break;
        }
    }

    private void Refold(StringBuilder sql, string conversation, string seq) =>
        sql.Append("UPDATE messages SET reactions = ").Append(string.Format(CultureInfo.InvariantCulture, Fold, conversation, seq))
            .Append(" WHERE conversation_id = ").Append(conversation).Append(" AND seq = ").Append(seq).Append(";\n");
}
