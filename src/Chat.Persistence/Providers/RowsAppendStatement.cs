using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Chat.Domain;

namespace Chat.Persistence;

/// <summary>What differs between MySQL and SQLite in <see cref="RowsAppendStatement"/> and <see cref="RowsCursorStatement"/>.</summary>
/// <param name="Isolation">Of the writer's transactions.</param>
/// <param name="AddToLastSeq">After <c>INSERT INTO conversations (id, last_seq) VALUES ...</c>: adds the new row's last_seq to an existing one.</param>
/// <param name="IgnoreExisting">After <c>INSERT INTO cursors ... VALUES ...</c>: leaves an existing cursor as it is.</param>
/// <param name="UpdateCursorsFrom">Moves column <c>{1}</c> of cursors forward from the derived table <c>{0}</c> (user_id, conversation_id, seq).</param>
/// <param name="MaxParameters">Parameters one command may carry.</param>
/// <param name="BeginInText">
/// Where a multi-statement command may open and commit a transaction (MySQL): the text that opens it. The transaction
/// then opens in the batch's first command and commits in its last, two round trips fewer than a transaction object's
/// BEGIN and COMMIT; null: a transaction object.
/// </param>
/// <param name="Events">How the batch's events change the messages they name (issue 21).</param>
internal sealed record RowsDialect(
    IsolationLevel Isolation, string AddToLastSeq, string IgnoreExisting, string UpdateCursorsFrom, int MaxParameters, string? BeginInText = null)
{
    public LogEvents Events { get; init; } = LogEvents.Sqlite;

    /// <summary>With <see cref="BeginInText"/>: what a writer connection's first command sets for the session (its isolation level), once.</summary>
    public string? SessionInText { get; init; }

    /// <summary>
    /// The conversations upsert can return the advanced last_seqs itself (<c>RETURNING</c>: MariaDB 10.5 and later,
    /// SQLite); false: they are read back by a SELECT in the same command (MySQL).
    /// </summary>
    public bool Returning { get; init; }
}

/// <summary>
/// The writer's statement where there are no arrays to send (MySQL, SQLite): one transaction of multi-row
/// statements — stored rows of the batch's cids looked up, each conversation's last_seq advanced by its count
/// (rows touched in id order, so that concurrent writers do not deadlock) and read back, the message rows
/// inserted with last_seq - n + k for the k-th of n, new direct conversations' cursors created at 0 for both
/// participants, the batch's mark inserted (<see cref="AppendMarks"/>). The same steps as PostgreSQL's single statement, with the numbering done here.
/// </summary>
internal sealed class RowsAppendStatement(RowsDialect dialect) : IAppendStatement
{
    /// <summary>Parameters a message row takes (its texts; its numbers are spelled into the statement).</summary>
    private const int MessageColumns = 4;

    /// <summary>The names of the first parameters of a command, made once (a batch of 256 messages adds ~1,000).</summary>
    private static readonly string[] ParameterNames = [.. Enumerable.Range(0, 2_048).Select(i => "@p" + i.ToString(CultureInfo.InvariantCulture))];

    /// <summary>The connection whose session <see cref="RowsDialect.SessionInText"/> has set up.</summary>
    private DbConnection? _session;

    private readonly List<int> _fresh = [];
    private readonly SortedDictionary<long, Allocation> _conversations = [];
    private readonly Dictionary<(int Sender, string ClientId), int> _positionByClientId = [];
    private readonly StringBuilder _sql = new();

    public async Task ExecuteAsync(DbConnection connection, AppendBatch batch, CancellationToken ct)
    {
        if (dialect.BeginInText is { } begin)
        {
            await ExecuteInTextAsync(connection, batch, begin, ct);
            return;
        }

        await using var transaction = await connection.BeginTransactionAsync(dialect.Isolation, ct);
        await AnswerRepeatsAsync(connection, transaction, batch, ct);
        if (_fresh.Count > 0)
        {
            await AllocateAsync(connection, transaction, batch, ct);
            await InsertAsync(connection, transaction, batch, ct);
            await dialect.Events.ApplyAsync(connection, transaction, batch, ct);
            await OutboxRows.ApplyAsync(connection, transaction, batch, ct); // webhooks (issue 24)
        }

        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// The same steps, the transaction opened by the first command's text and committed by the last one's. Repeated
    /// cids are looked up before it: read committed would see no more inside it, and a cid stored meanwhile by
    /// another writer fails the insert on its unique index (retried by the writer, then found). Every result is read,
    /// so a failed COMMIT throws; after a failure the transaction is rolled back before the connection is used again.
    /// </summary>
    private async Task ExecuteInTextAsync(DbConnection connection, AppendBatch batch, string begin, CancellationToken ct)
    {
        await AnswerRepeatsAsync(connection, null, batch, ct);
        if (_fresh.Count == 0)
        {
            return;
        }

        try
        {
            var session = ReferenceEquals(connection, _session) || dialect.SessionInText is null ? "" : dialect.SessionInText + ";\n";
            await AllocateAsync(connection, null, batch, ct, session + begin + ";\n");
            _session = connection;
            var events = batch.HasEvents;
            var outbox = batch.HasOutbox; // webhooks (issue 24): their rows commit with the batch, after the events
            await InsertAsync(connection, null, batch, ct, events || outbox ? "" : ";\nCOMMIT");
            if (events)
            {
                // Every event may have repeated a stored cid: then nothing to apply, but the transaction still commits.
                if (batch.FreshEvents.Count == 0)
                {
                    if (!outbox)
                    {
                        await CommitInTextAsync(connection, ct);
                    }
                }
                else
                {
                    await dialect.Events.ApplyAsync(connection, null, batch, ct, outbox ? "" : "COMMIT");
                }
            }

            if (outbox)
            {
                await OutboxRows.ApplyAsync(connection, null, batch, ct, "COMMIT");
            }
        }
        catch
        {
            await RollBackAsync(connection);
            throw;
        }
    }

    private static async Task CommitInTextAsync(DbConnection connection, CancellationToken ct)
    {
        await using var commit = connection.CreateCommand();
        commit.CommandText = "COMMIT";
        await commit.ExecuteNonQueryAsync(ct);
    }

    private static async Task RollBackAsync(DbConnection connection)
    {
        try
        {
            await using var rollback = connection.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException)
        {
            // The connection is broken: the server rolls the transaction back as it drops it.
        }
    }

    public void Dispose()
    {
    }

    /// <summary>Answers the messages whose cid is already stored; leaves the others' positions in <see cref="_fresh"/>.</summary>
    private async Task AnswerRepeatsAsync(DbConnection connection, DbTransaction? transaction, AppendBatch batch, CancellationToken ct)
    {
        _fresh.Clear();
        _positionByClientId.Clear();
        for (var p = 0; p < batch.Count; p++)
        {
            if (batch.ClientIds[p] is { } cid)
            {
                _positionByClientId[(batch.Senders[p], cid)] = p;
            }
        }

        if (_positionByClientId.Count > 0)
        {
            // At most 200 (sender, cid) terms a statement: SQLite parses a chain of ORs as a tree at most 1,000 deep.
            foreach (var chunk in _positionByClientId.Keys.Chunk(Math.Min(200, dialect.MaxParameters / 2)))
            {
                await using var command = Command(connection, transaction);
                _sql.Append("SELECT sender_id, client_id, conversation_id, seq, sender_name, body, client_time, ts FROM messages WHERE ");
                for (var i = 0; i < chunk.Length; i++)
                {
                    _sql.Append(i == 0 ? "" : " OR ").Append("(sender_id = ").Append(Parameter(command, chunk[i].Sender))
                        .Append(" AND client_id = ").Append(Parameter(command, chunk[i].ClientId)).Append(')');
                }

                command.CommandText = _sql.ToString();
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    if (_positionByClientId.Remove((reader.GetInt32(0), reader.GetString(1)), out var position))
                    {
                        batch.Repeat(position, reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetInt64(7));
                    }
                }
            }
        }

        for (var p = 0; p < batch.Count; p++)
        {
            if (batch.ClientIds[p] is not { } cid || _positionByClientId.ContainsKey((batch.Senders[p], cid)))
            {
                _fresh.Add(p);
            }
        }
    }

    /// <summary>Advances each conversation's last_seq by its number of fresh messages and reads the result back;
    /// <paramref name="begin"/> opens the first command.</summary>
    private async Task AllocateAsync(DbConnection connection, DbTransaction? transaction, AppendBatch batch, CancellationToken ct, string begin = "")
    {
        _conversations.Clear();
        foreach (var p in _fresh)
        {
            var conversation = batch.Conversations[p];
            _conversations[conversation] = _conversations.TryGetValue(conversation, out var a) ? a with { Count = a.Count + 1 } : new Allocation(1, 0);
        }

        foreach (var chunk in _conversations.Keys.Chunk(dialect.MaxParameters / 2))
        {
            await using var command = Command(connection, transaction);
            _sql.Append(begin).Append("INSERT INTO conversations (id, last_seq) VALUES ");
            begin = "";
            for (var i = 0; i < chunk.Length; i++)
            {
                _sql.Append(i == 0 ? "(" : ", (").AppendNumber(chunk[i]).Append(", ").AppendNumber(_conversations[chunk[i]].Count).Append(')');
            }

            _sql.Append(' ').Append(dialect.AddToLastSeq);
            if (dialect.Returning)
            {
                _sql.Append(" RETURNING id, last_seq");
            }
            else
            {
                _sql.Append(";\nSELECT id, last_seq FROM conversations WHERE id IN (");
                for (var i = 0; i < chunk.Length; i++)
                {
                    _sql.Append(i == 0 ? "" : ", ").AppendNumber(chunk[i]);
                }

                _sql.Append(')');
            }

            command.CommandText = _sql.ToString();
            await using var reader = await command.ExecuteReaderAsync(ct);
            do
            {
                while (await reader.ReadAsync(ct))
                {
                    var id = reader.GetInt64(0);
                    _conversations[id] = _conversations[id] with { LastSeq = reader.GetInt64(1) };
                }
            }
            while (await reader.NextResultAsync(ct));
        }
    }

    /// <summary>Inserts the fresh messages, numbered; creates the cursors of direct conversations that just began;
    /// <paramref name="commit"/> ends the last command.</summary>
    private async Task InsertAsync(DbConnection connection, DbTransaction? transaction, AppendBatch batch, CancellationToken ct, string commit = "")
    {
        var chunks = _fresh.Chunk(dialect.MaxParameters / MessageColumns).ToList();
        foreach (var chunk in chunks)
        {
            await using var command = Command(connection, transaction);
            _sql.Append("INSERT INTO messages (conversation_id, seq, sender_id, sender_name, body, client_time, ts, client_id, kind, ref_seq, reply_seq) VALUES ");
            var started = new List<long>();
            for (var i = 0; i < chunk.Length; i++)
            {
                var p = chunk[i];
                var conversation = batch.Conversations[p];
                var allocation = _conversations[conversation];
                var seq = allocation.LastSeq - allocation.Count + allocation.Taken + 1;
                _conversations[conversation] = allocation with { Taken = allocation.Taken + 1 };
                batch.Stored(p, seq);
                if (seq == 1 && !ConversationId.IsGroup(conversation))
                {
                    started.Add(conversation);
                }

                // Numbers are spelled into the text (as MySqlConnector would spell parameters anyway), text goes as parameters.
                _sql.Append(i == 0 ? "(" : ", (")
                    .AppendNumber(conversation).Append(", ")
                    .AppendNumber(seq).Append(", ")
                    .AppendNumber(batch.Senders[p]).Append(", ")
                    .Append(Parameter(command, batch.SenderNames[p])).Append(", ")
                    .Append(Parameter(command, batch.Bodies[p])).Append(", ")
                    .Append(Parameter(command, batch.ClientTimes[p])).Append(", ")
                    .AppendNumber(batch.Timestamps[p]).Append(", ")
                    .Append(Parameter(command, batch.ClientIds[p])).Append(", ")
                    .AppendNumber(batch.Kinds[p]).Append(", ")
                    .AppendNumber(batch.Refs[p]).Append(", ")
                    .AppendNumber(batch.ReplySeqs[p]).Append(')');
            }

            if (started.Count > 0)
            {
                // Two cursors per started conversation, spelled as numbers: no parameters.
                _sql.Append(";\nINSERT INTO cursors (user_id, conversation_id, delivered_seq) VALUES ");
                var first = true;
                foreach (var conversation in started)
                {
                    var one = ConversationId.Peer(conversation, -1); // no user is -1: the lower participant
                    foreach (var user in (ReadOnlySpan<int>)[one, ConversationId.Peer(conversation, one)])
                    {
                        _sql.Append(first ? "(" : ", (").AppendNumber(user).Append(", ").AppendNumber(conversation).Append(", 0)");
                        first = false;
                    }
                }

                _sql.Append(' ').Append(dialect.IgnoreExisting);
            }

            if (chunk == chunks[^1])
            {
                AppendMark(command, batch);
                _sql.Append(commit);
            }

            command.CommandText = _sql.ToString();
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>The batch's mark, with every seq handed out; every <see cref="AppendMarks.Kept"/> batches, the lane's older marks deleted.</summary>
    private void AppendMark(DbCommand command, AppendBatch batch)
    {
        _sql.Append(";\nINSERT INTO append_marks (lane_id, batch, created_at, seqs) VALUES (").AppendNumber(batch.LaneId)
            .Append(", ").AppendNumber(batch.Number)
            .Append(", ").AppendNumber(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
            .Append(", ").Append(Parameter(command, batch.FreshSeqs())).Append(')');
        if (batch.Number % AppendMarks.Kept == 0)
        {
            _sql.Append(";\nDELETE FROM append_marks WHERE lane_id = ").AppendNumber(batch.LaneId)
                .Append(" AND batch <= ").AppendNumber(batch.Number - AppendMarks.Kept);
        }
    }

    private DbCommand Command(DbConnection connection, DbTransaction? transaction)
    {
        _sql.Clear();
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        return command;
    }

    /// <summary>Adds a parameter; returns its name for the SQL text.</summary>
    internal static string Parameter(DbCommand command, object? value)
    {
        var parameter = command.CreateParameter();
        var index = command.Parameters.Count;
        parameter.ParameterName = index < ParameterNames.Length ? ParameterNames[index] : "@p" + index.ToString(CultureInfo.InvariantCulture);
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter.ParameterName;
    }

    /// <param name="Count">Fresh messages for the conversation in this batch.</param>
    /// <param name="LastSeq">Its last_seq after they were counted in.</param>
    /// <param name="Taken">Seqs handed out so far.</param>
    private readonly record struct Allocation(int Count, long LastSeq, int Taken = 0);
}

/// <summary>Delivered-cursors or read marks moved forward in one transaction, a derived table of rows per statement.</summary>
internal static class RowsCursorStatement
{
    public static async Task WriteAsync(RowsDialect dialect, MarkColumn column, DbConnection connection, CursorColumns cursors, CancellationToken ct)
    {
        // 3 parameters a row; at most 250 rows per statement (SQLite allows 500 terms in a compound SELECT).
        var rowsPerStatement = Math.Min(250, dialect.MaxParameters / 3);
        await using var transaction = await connection.BeginTransactionAsync(dialect.Isolation, ct);
        var values = new StringBuilder();
        for (var start = 0; start < cursors.Count; start += rowsPerStatement)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            values.Clear();
            for (var i = start; i < Math.Min(cursors.Count, start + rowsPerStatement); i++)
            {
                var (user, conversation, seq) = (
                    RowsAppendStatement.Parameter(command, cursors.Users[i]),
                    RowsAppendStatement.Parameter(command, cursors.Conversations[i]),
                    RowsAppendStatement.Parameter(command, cursors.Seqs[i]));
                values.Append(i == start
                    ? $"SELECT {user} AS user_id, {conversation} AS conversation_id, {seq} AS seq"
                    : $" UNION ALL SELECT {user}, {conversation}, {seq}");
            }

            command.CommandText = string.Format(CultureInfo.InvariantCulture, dialect.UpdateCursorsFrom, values, column.Name);
            await command.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }
}

/// <summary>Numbers spelled into SQL text: invariant digits (a culture's minus sign is not SQL's), NULL for none.</summary>
internal static class SqlText
{
    public static StringBuilder AppendNumber(this StringBuilder sql, long value) => sql.Append(CultureInfo.InvariantCulture, $"{value}");

    public static StringBuilder AppendNumber(this StringBuilder sql, long? value) => value is { } v ? sql.AppendNumber(v) : sql.Append("NULL");
}
