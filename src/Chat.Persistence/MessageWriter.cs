using System.Data;
using System.Diagnostics;
using System.Threading.Channels;
using Chat.Domain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Chat.Persistence;

/// <summary>
/// The durable message log, with group commit. Senders queue messages; a loop takes everything queued (up to
/// <see cref="StoreOptions.MaxBatch"/>) and stores it with a single autocommitted statement — seqs allocated,
/// repeated cids found, rows inserted, new direct conversations' cursors created — then completes every sender.
/// With <see cref="StoreOptions.WriterLanes"/> above 1 there are that many such loops, each with its own queue
/// and connection; a conversation always goes to the same one, so its messages are numbered in the order they
/// were queued either way. A singleton and a hosted service: stopping it refuses new messages, then drains and
/// commits the queues.
/// </summary>
public sealed class MessageWriter : IMessageWriter, IHostedService, IDisposable
{
    // One statement, autocommitted: $1..$7 are the batch's columns, one array each; ord is a message's 1-based
    // position in them. Every step is a scan, a sort or an index probe — no join between intermediate results —
    // so the plan cached on the connection cannot go quadratic, whatever sizes the planner guessed.
    // - input: each message, and the stored row when its (sender_id, client_id) is already there (a repeat).
    //   Probed one by one (LATERAL ... LIMIT 1): an index probe even if planned while the table was empty.
    // - fresh: the others, with their count per conversation (n) and their rank in it (k, submission order).
    // - allocated: each conversation's last_seq advanced by n, rows locked in id order so that concurrent
    //   writers (replicas) do not deadlock; the message ranked k gets last_seq - n + k: gap-free.
    // - participants: a direct conversation (id < 0, see ConversationId.Direct: -(lo << 31 | hi)) that just
    //   got its seq 1 gets a cursor at 0 for both participants, so what they have not read shows at login.
    // Result: (ord, seq) per stored message, plus the stored row for a repeat.
    private const string AppendSql = """
        WITH input AS (
            SELECT t.*, d.seq AS stored_seq, d.conversation_id AS stored_conv, d.sender_name AS stored_sender_name,
                   d.body AS stored_body, d.client_time AS stored_client_time, d.ts AS stored_ts
            FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])
                WITH ORDINALITY AS t(conv, sender_id, sender_name, body, client_time, ts, client_id, ord)
            LEFT JOIN LATERAL (
                SELECT m.conversation_id, m.seq, m.sender_name, m.body, m.client_time, m.ts
                FROM messages m
                WHERE m.sender_id = t.sender_id AND m.client_id = t.client_id
                LIMIT 1) d ON t.client_id IS NOT NULL
        ),
        fresh AS (
            SELECT conv, sender_id, sender_name, body, client_time, ts, client_id, ord,
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
                SELECT conv, sender_id, sender_name, body, client_time, ts, client_id, ord, n, k, NULL::bigint AS last_seq FROM fresh
                UNION ALL
                SELECT id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, last_seq FROM allocated
            ) u
        ),
        inserted AS (
            INSERT INTO messages (conversation_id, seq, sender_id, sender_name, body, client_time, ts, client_id)
            SELECT conv, seq, sender_id, sender_name, body, client_time, ts, client_id FROM numbered WHERE ord IS NOT NULL
        ),
        participants AS (
            INSERT INTO cursors (user_id, conversation_id, delivered_seq)
            SELECT DISTINCT p.user_id, n.conv, 0::bigint
            FROM numbered n
            CROSS JOIN LATERAL (VALUES (((-n.conv) >> 31)::int), (((-n.conv) & 2147483647)::int)) AS p(user_id)
            WHERE n.seq = 1 AND n.conv < 0 AND n.ord IS NOT NULL
            ON CONFLICT (user_id, conversation_id) DO NOTHING
        )
        SELECT ord, seq, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::bigint FROM numbered WHERE ord IS NOT NULL
        UNION ALL
        SELECT ord, stored_seq, stored_conv, stored_sender_name, stored_body, stored_client_time, stored_ts FROM input WHERE stored_seq IS NOT NULL
        """;

    // Planning the statement costs more than running it for a typical batch, and knowing the arrays' lengths
    // would not change the plan: plan it once per connection. (Reset when the connection returns to the pool.)
    private const string SessionSql = "SET plan_cache_mode = force_generic_plan";

    private const int MaxAttempts = 5;

    /// <summary>The messages table's client_id column (characters).</summary>
    private const int MaxClientIdLength = 64;

    private readonly Lane[] _lanes;
    private readonly CancellationTokenSource _abort = new();

    public MessageWriter(NpgsqlDataSource dataSource, IOptions<StoreOptions> options, ILogger<MessageWriter> logger, StoreMetrics? metrics = null)
    {
        var o = options.Value;
        var capacity = Math.Max(1, o.WriterQueueCapacity / o.WriterLanes);
        _lanes = new Lane[o.WriterLanes];
        for (var i = 0; i < _lanes.Length; i++)
        {
            _lanes[i] = new Lane(dataSource, logger, metrics, o.MaxBatch, capacity, _abort.Token);
        }

        metrics?.Meter.CreateObservableGauge("chat.store.queue.depth", () => QueueDepth, "{message}", "Messages waiting for the writer");
    }

    /// <summary>Messages queued and not yet taken into a batch, all lanes together.</summary>
    public int QueueDepth => _lanes.Sum(l => l.QueueDepth);

    /// <summary>
    /// Completes once the message is committed. Fails, without touching the database, with an
    /// <see cref="ArgumentException"/> when a text is longer than its column or holds a NUL or an unpaired
    /// surrogate, and with a <see cref="ChannelClosedException"/> once the writer is stopping.
    /// </summary>
    public ValueTask<AppendResult> AppendAsync(ChatMessage message, CancellationToken ct)
    {
        if (Problem(message) is { } problem)
        {
            return ValueTask.FromException<AppendResult>(problem);
        }

        var lane = _lanes[(uint)message.ConversationId.GetHashCode() % (uint)_lanes.Length];
        return lane.AppendAsync(message, ct);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var lane in _lanes)
        {
            lane.Start();
        }

        return Task.CompletedTask;
    }

    /// <summary>Refuses new messages, then commits what is queued; past <paramref name="cancellationToken"/>, fails it instead.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var lane in _lanes)
        {
            lane.Complete();
        }

        await using (cancellationToken.Register(_abort.Cancel))
        {
            await Task.WhenAll(_lanes.Select(l => l.Loop));
        }
    }

    public void Dispose()
    {
        foreach (var lane in _lanes)
        {
            lane.Dispose();
        }

        _abort.Dispose();
    }

    /// <summary>What the database would refuse: refused here, so that one bad message cannot fail a whole batch.</summary>
    private static ArgumentException? Problem(ChatMessage m) =>
        TextProblem(m.SenderName, Validation.MaxNameLength, "SenderName")
        ?? TextProblem(m.Body, int.MaxValue, "Body")
        ?? TextProblem(m.ClientTime, Validation.MaxClientTimeLength, "ClientTime")
        ?? (m.ClientId is null ? null : TextProblem(m.ClientId, MaxClientIdLength, "ClientId"));

    private static ArgumentException? TextProblem(string? value, int maxLength, string field)
    {
        if (value is null)
        {
            return new ArgumentNullException(field);
        }

        if (value.Length > maxLength)
        {
            return new ArgumentException($"{field} is longer than {maxLength} characters.", field);
        }

        // PostgreSQL text cannot hold NUL, and UTF-8 cannot encode an unpaired surrogate.
        return Validation.IsStorable(value)
            ? null
            : new ArgumentException($"{field} contains a NUL or an unpaired surrogate.", field);
    }

    private readonly record struct PendingAppend(ChatMessage Message, TaskCompletionSource<AppendResult> Completion);

    /// <summary>One queue, one loop, one connection.</summary>
    private sealed class Lane : IDisposable
    {
        private readonly NpgsqlDataSource _dataSource;
        private readonly ILogger _logger;
        private readonly StoreMetrics? _metrics;
        private readonly int _maxBatch;
        private readonly CancellationToken _abort;
        private readonly Channel<PendingAppend> _queue;
        private readonly Batch _batch;
        private readonly NpgsqlCommand _command;
        private NpgsqlConnection? _connection;

        public Lane(NpgsqlDataSource dataSource, ILogger logger, StoreMetrics? metrics, int maxBatch, int capacity, CancellationToken abort)
        {
            _dataSource = dataSource;
            _logger = logger;
            _metrics = metrics;
            _maxBatch = maxBatch;
            _abort = abort;
            _queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(capacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
            });
            _batch = new Batch(maxBatch);
            _command = new NpgsqlCommand(AppendSql)
            {
                Parameters =
                {
                    ArrayParameter(NpgsqlDbType.Bigint, _batch.Conversations),
                    ArrayParameter(NpgsqlDbType.Integer, _batch.Senders),
                    ArrayParameter(NpgsqlDbType.Text, _batch.SenderNames),
                    ArrayParameter(NpgsqlDbType.Text, _batch.Bodies),
                    ArrayParameter(NpgsqlDbType.Text, _batch.ClientTimes),
                    ArrayParameter(NpgsqlDbType.Bigint, _batch.Timestamps),
                    ArrayParameter(NpgsqlDbType.Text, _batch.ClientIds),
                },
            };
        }

        public Task Loop { get; private set; } = Task.CompletedTask;

        public int QueueDepth => _queue.Reader.Count;

        public ValueTask<AppendResult> AppendAsync(ChatMessage message, CancellationToken ct)
        {
            var pending = new PendingAppend(message, new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));
            return _queue.Writer.TryWrite(pending)
                ? new ValueTask<AppendResult>(pending.Completion.Task.WaitAsync(ct))
                : EnqueueAsync(pending, ct);
        }

        public void Start() => Loop = Task.Run(RunAsync, CancellationToken.None);

        public void Complete() => _queue.Writer.TryComplete();

        public void Dispose()
        {
            _queue.Writer.TryComplete();
            _command.Dispose();
        }

        private static NpgsqlParameter<List<T>> ArrayParameter<T>(NpgsqlDbType elementType, List<T> values) =>
            new() { NpgsqlDbType = NpgsqlDbType.Array | elementType, TypedValue = values };

        private async ValueTask<AppendResult> EnqueueAsync(PendingAppend pending, CancellationToken ct)
        {
            await _queue.Writer.WriteAsync(pending, ct);
            return await pending.Completion.Task.WaitAsync(ct);
        }

        private async Task RunAsync()
        {
            var reader = _queue.Reader;
            try
            {
                while (await reader.WaitToReadAsync())
                {
                    // Senders just completed by the previous commit are about to queue their next message: let
                    // them, rather than commit one now and the rest a round trip later (doubles the batch under load).
                    await Task.Yield();
                    _batch.Clear();
                    while (_batch.Items.Count < _maxBatch && reader.TryRead(out var pending))
                    {
                        _batch.Items.Add(pending);
                    }

                    await CommitAsync(_batch);
                }
            }
            finally
            {
                await DropConnectionAsync();
                _logger.WriterStopped();
            }
        }

        private async Task CommitAsync(Batch batch)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                batch.Prepare();
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await ExecuteAsync(batch);
                        break;
                    }
                    catch (PostgresException ex) when (attempt < MaxAttempts && IsRetryable(ex))
                    {
                        _logger.BatchRetry(batch.Items.Count, attempt, ex);
                        await Task.Delay(TimeSpan.FromMilliseconds(attempt * 2), _abort);
                    }
                }

                _metrics?.Committed(batch.Items.Count, Stopwatch.GetElapsedTime(started));
                batch.Complete();
            }
            catch (Exception ex)
            {
                _metrics?.Failed();
                _logger.BatchFailed(batch.Items.Count, ex);
                if (ex is not PostgresException)
                {
                    await DropConnectionAsync();
                }

                foreach (var pending in batch.Items)
                {
                    pending.Completion.TrySetException(ex);
                }
            }
        }

        /// <summary>
        /// Deadlocks and serialisation failures, and a unique violation on a cid that another writer stored
        /// meanwhile: the statement was rolled back whole, and running it again sees the winner's rows.
        /// </summary>
        private static bool IsRetryable(PostgresException ex) => ex.SqlState
            is PostgresErrorCodes.DeadlockDetected
            or PostgresErrorCodes.SerializationFailure
            or PostgresErrorCodes.UniqueViolation;

        private async Task ExecuteAsync(Batch batch)
        {
            if (_connection is not { State: ConnectionState.Open })
            {
                await DropConnectionAsync();
                _connection = await _dataSource.OpenConnectionAsync(_abort);
                await using (var setup = new NpgsqlCommand(SessionSql, _connection))
                {
                    await setup.ExecuteNonQueryAsync(_abort);
                }

                _command.Connection = _connection;
                await _command.PrepareAsync(_abort);
            }

            batch.ResetResults();
            await using var reader = await _command.ExecuteReaderAsync(_abort);
            while (await reader.ReadAsync(_abort))
            {
                var index = batch.Sent[checked((int)reader.GetInt64(0) - 1)];
                var seq = reader.GetInt64(1);
                var submitted = batch.Items[index].Message;
                if (reader.IsDBNull(2))
                {
                    batch.Results[index] = new AppendResult(new StoredMessage(submitted, seq), Duplicate: false);
                    continue;
                }

                var conversation = reader.GetInt64(2);
                var stored = submitted with
                {
                    ConversationId = conversation,
                    TargetId = ConversationId.IsGroup(conversation)
                        ? (int)conversation
                        : ConversationId.Peer(conversation, submitted.SenderId),
                    SenderName = reader.GetString(3),
                    Body = reader.GetString(4),
                    ClientTime = reader.GetString(5),
                    Ts = reader.GetInt64(6),
                };
                batch.Results[index] = new AppendResult(new StoredMessage(stored, seq), Duplicate: true);
            }
        }

        private async ValueTask DropConnectionAsync()
        {
            if (_connection is not null)
            {
                _command.Connection = null;
                await _connection.DisposeAsync();
                _connection = null;
            }
        }
    }

    /// <summary>One batch's state, reused from batch to batch by the single loop.</summary>
    private sealed class Batch(int capacity)
    {
        public List<PendingAppend> Items { get; } = new(capacity);

        /// <summary>Item index of the message at each position of the columns (ord - 1).</summary>
        public List<int> Sent { get; } = new(capacity);

        /// <summary>Per item: -1 when sent, else the index of the earlier item with the same (sender, cid).</summary>
        public List<int> RepeatOf { get; } = new(capacity);

        public AppendResult?[] Results { get; } = new AppendResult?[capacity];

        public List<long> Conversations { get; } = new(capacity);

        public List<int> Senders { get; } = new(capacity);

        public List<string> SenderNames { get; } = new(capacity);

        public List<string> Bodies { get; } = new(capacity);

        public List<string> ClientTimes { get; } = new(capacity);

        public List<long> Timestamps { get; } = new(capacity);

        public List<string?> ClientIds { get; } = new(capacity);

        private readonly Dictionary<(int Sender, string ClientId), int> _firstByClientId = [];

        public void Clear()
        {
            Items.Clear();
            Sent.Clear();
            RepeatOf.Clear();
            Conversations.Clear();
            Senders.Clear();
            SenderNames.Clear();
            Bodies.Clear();
            ClientTimes.Clear();
            Timestamps.Clear();
            ClientIds.Clear();
            _firstByClientId.Clear();
        }

        /// <summary>Fills the columns, sending a (sender, cid) repeated within the batch only once.</summary>
        public void Prepare()
        {
            for (var i = 0; i < Items.Count; i++)
            {
                var m = Items[i].Message;
                if (m.ClientId is not null && !_firstByClientId.TryAdd((m.SenderId, m.ClientId), i))
                {
                    RepeatOf.Add(_firstByClientId[(m.SenderId, m.ClientId)]);
                    continue;
                }

                RepeatOf.Add(-1);
                Sent.Add(i);
                Conversations.Add(m.ConversationId);
                Senders.Add(m.SenderId);
                SenderNames.Add(m.SenderName);
                Bodies.Add(m.Body);
                ClientTimes.Add(m.ClientTime);
                Timestamps.Add(m.Ts);
                ClientIds.Add(m.ClientId);
            }
        }

        public void ResetResults() => Array.Clear(Results, 0, Items.Count);

        public void Complete()
        {
            for (var i = 0; i < Items.Count; i++)
            {
                var first = RepeatOf[i];
                var result = first < 0
                    ? Results[i]
                    : Results[first] is { } earlier ? earlier with { Duplicate = true } : null;
                if (result is null)
                {
                    Items[i].Completion.TrySetException(new InvalidOperationException("The store returned no seq for a message."));
                }
                else
                {
                    Items[i].Completion.TrySetResult(result);
                }
            }
        }
    }
}
