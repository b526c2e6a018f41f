using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

namespace Chat.Persistence;

/// <summary>PostgreSQL's writer statement: the whole batch in one autocommitted statement over arrays, prepared once per connection.</summary>
internal sealed class PostgresAppendStatement : IAppendStatement
{
    // One statement, autocommitted (in a transaction with the events' changes when the batch has events): $1..$10 are the batch's columns, one array each ($11..$13 its mark); ord is a message's 1-based
    // position in them. Every step is a scan, a sort or an index probe — no join between intermediate results —
    // so the plan cached on the connection cannot go quadratic, whatever sizes the planner guessed.
    // - input: each message, and the stored row when its (sender_id, client_id) is already there (a repeat).
    //   Probed one by one (LATERAL ... LIMIT 1): an index probe even if planned while the table was empty.
    // - fresh: the others, with their count per conversation (n) and their rank in it (k, submission order).
    // - allocated: each conversation's last_seq advanced by n, rows locked in id order so that concurrent
    //   writers (replicas) do not deadlock; the message ranked k gets last_seq - n + k: gap-free.
    // - participants: a direct conversation (id < 0, see ConversationId.Direct: -(lo << 31 | hi)) that just
    //   got its seq 1 gets a cursor at 0 for both participants, so what they have not read shows at login.
    // - marked: the batch's mark ($11 lane, $12 batch number, $13 time) with each fresh message's ord:seq, and pruned:
    //   every 64 batches (AppendMarks.Kept), the lane's marks 64 or more batches older deleted.
    // Result: (ord, seq) per stored message, plus the stored row for a repeat.
    private const string AppendSql = """
        WITH input AS (
            SELECT t.*, d.seq AS stored_seq, d.conversation_id AS stored_conv, d.sender_name AS stored_sender_name,
                   d.body AS stored_body, d.client_time AS stored_client_time, d.ts AS stored_ts
            FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::smallint[], $9::bigint[], $10::bigint[])
                WITH ORDINALITY AS t(conv, sender_id, sender_name, body, client_time, ts, client_id, kind, ref_seq, reply_seq, ord)
            LEFT JOIN LATERAL (
                SELECT m.conversation_id, m.seq, m.sender_name, m.body, m.client_time, m.ts
                FROM messages m
                WHERE m.sender_id = t.sender_id AND m.client_id = t.client_id
                LIMIT 1) d ON t.client_id IS NOT NULL
        ),
        fresh AS (
            SELECT conv, sender_id, sender_name, body, client_time, ts, client_id, kind, ref_seq, reply_seq, ord,
                   count(*) OVER (PARTITION BY conv) AS n,
                   row_number() OVER (PARTITION BY conv ORDER BY ord) AS k
            FROM input
            WHERE stored_seq IS NULL
        ),
        allocated AS (
            INSERT INTO conversations AS c (id, last_seq)
            SELECT conv, n FROM fresh WHERE k = 1 ORDER BY conv
            ON CONFLICT (id) DO UPDATE SET last_seq = c.last_seq + excluded.last_seq
            RETURNING c.id, c.last_seq
        ),
        numbered AS (
            SELECT *, max(last_seq) OVER (PARTITION BY conv) - n + k AS seq
            FROM (
                SELECT conv, sender_id, sender_name, body, client_time, ts, client_id, kind, ref_seq, reply_seq, ord, n, k, NULL::bigint AS last_seq FROM fresh
                UNION ALL
                SELECT id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, last_seq FROM allocated
            ) u
        ),
        inserted AS (
            INSERT INTO messages (conversation_id, seq, sender_id, sender_name, body, client_time, ts, client_id, kind, ref_seq, reply_seq)
            SELECT conv, seq, sender_id, sender_name, body, client_time, ts, client_id, kind, ref_seq, reply_seq FROM numbered WHERE ord IS NOT NULL
        ),
        participants AS (
            INSERT INTO cursors (user_id, conversation_id, delivered_seq)
            SELECT DISTINCT p.user_id, n.conv, 0::bigint
            FROM numbered n
            CROSS JOIN LATERAL (VALUES (((-n.conv) >> 31)::int), (((-n.conv) & 2147483647)::int)) AS p(user_id)
            WHERE n.seq = 1 AND n.conv < 0 AND n.ord IS NOT NULL
            ON CONFLICT (user_id, conversation_id) DO NOTHING
        ),
        marked AS (
            INSERT INTO append_marks (lane_id, batch, created_at, seqs)
            SELECT $11, $12, $13, coalesce(string_agg(ord::text || ':' || seq::text, ','), '') FROM numbered WHERE ord IS NOT NULL
        ),
        pruned AS (
            DELETE FROM append_marks WHERE lane_id = $11 AND batch <= $12 - 64 AND $12 % 64 = 0
        )
        SELECT ord, seq, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::bigint FROM numbered WHERE ord IS NOT NULL
        UNION ALL
        SELECT ord, stored_seq, stored_conv, stored_sender_name, stored_body, stored_client_time, stored_ts FROM input WHERE stored_seq IS NOT NULL
        """;

    // Planning the statement costs more than running it for a typical batch, and knowing the arrays' lengths
    // would not change the plan: plan it once per connection. (Reset when the connection returns to the pool.)
    private const string SessionSql = "SET plan_cache_mode = force_generic_plan";

    private readonly NpgsqlCommand _command = new(AppendSql);
    private readonly NpgsqlParameter<long> _lane = new() { NpgsqlDbType = NpgsqlDbType.Bigint };
    private readonly NpgsqlParameter<long> _number = new() { NpgsqlDbType = NpgsqlDbType.Bigint };
    private readonly NpgsqlParameter<long> _createdAt = new() { NpgsqlDbType = NpgsqlDbType.Bigint };
    private AppendBatch? _boundTo;

    public async Task ExecuteAsync(DbConnection connection, AppendBatch batch, CancellationToken ct)
    {
        if (!ReferenceEquals(_boundTo, batch))
        {
            _command.Parameters.Clear();
            _command.Parameters.Add(ArrayParameter(NpgsqlDbType.Bigint, batch.Conversations));
            _command.Parameters.Add(ArrayParameter(NpgsqlDbType.Integer, batch.Senders));
            _command.Parameters.Add(ArrayParameter(NpgsqlDbType.Text, batch.SenderNames));
            _command.Parameters.Add(ArrayParameter(NpgsqlDbType.Text, batch.Bodies));
            _command.Parameters.Add(ArrayParameter(NpgsqlDbType.Text, batch.ClientTimes));
            _command.Parameters.Add(ArrayParameter(NpgsqlDbType.Bigint, batch.Timestamps));
            _command.Parameters.Add(ArrayParameter(NpgsqlDbType.Text, batch.ClientIds));
            _command.Parameters.Add(ArrayParameter(NpgsqlDbType.Smallint, batch.Kinds));
            _command.Parameters.Add(ArrayParameter(NpgsqlDbType.Bigint, batch.Refs));
            _command.Parameters.Add(ArrayParameter(NpgsqlDbType.Bigint, batch.ReplySeqs));
            _command.Parameters.Add(_lane);
            _command.Parameters.Add(_number);
            _command.Parameters.Add(_createdAt);
            _boundTo = batch;
        }

        (_lane.TypedValue, _number.TypedValue, _createdAt.TypedValue) = (batch.LaneId, batch.Number, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        if (!ReferenceEquals(_command.Connection, connection))
        {
            await using (var setup = new NpgsqlCommand(SessionSql, (NpgsqlConnection)connection))
            {
                await setup.ExecuteNonQueryAsync(ct);
            }

            _command.Connection = (NpgsqlConnection)connection;
            await _command.PrepareAsync(ct);
        }

        if (!batch.HasEvents && !batch.HasOutbox)
        {
            await RunAsync(batch, ct); // autocommitted
            return;
        }

        // Events change the messages they name in the same transaction (issue 21), webhook rows go with it (issue 24): then not autocommitted.
        await using var transaction = await connection.BeginTransactionAsync(ct);
        _command.Transaction = (NpgsqlTransaction)transaction;
        try
        {
            await RunAsync(batch, ct);
            await LogEvents.Postgres.ApplyAsync(connection, transaction, batch, ct);
            await OutboxRows.ApplyAsync(connection, transaction, batch, ct); // webhooks (issue 24)
            await transaction.CommitAsync(ct);
        }
        finally
        {
            _command.Transaction = null;
        }
    }

    private async Task RunAsync(AppendBatch batch, CancellationToken ct)
    {
        await using var reader = await _command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var position = checked((int)reader.GetInt64(0) - 1);
            var seq = reader.GetInt64(1);
            if (reader.IsDBNull(2))
            {
                batch.Stored(position, seq);
            }
            else
            {
                batch.Repeat(position, reader.GetInt64(2), seq, reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetInt64(6));
            }
        }
    }

    public void Dispose() => _command.Dispose();

    private static NpgsqlParameter<List<T>> ArrayParameter<T>(NpgsqlDbType elementType, List<T> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | elementType, TypedValue = values };
}
