using System.Data;
using System.Threading.Channels;
using Chat.Domain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Chat.Persistence;

/// <summary>
/// The durable message log (group commit): senders queue messages; one loop takes everything queued (up to
/// <see cref="StoreOptions.MaxBatch"/>) and stores it with a single autocommitted statement — seqs allocated,
/// repeated cids found, rows inserted, direct conversations' cursors created — then completes every sender.
/// A singleton and a hosted service: stopping it refuses new messages, then drains and commits the queue.
/// </summary>
public sealed class MessageWriter : IMessageWriter, IHostedService, IDisposable
{
    // $1..$7 are the batch's columns, one array each; ord is a message's 1-based position in them.
    // Duplicates (sender_id, client_id already stored) are answered with the stored row and not inserted.
    // The rest are numbered per conversation in submission order, right after the conversation's last_seq,
    // which the upsert advances by the batch's count (rows locked in id order, so replicas do not deadlock).
    // A direct conversation (id < 0, see ConversationId.Direct: -(lo << 31 | hi)) that this statement
    // created gets a cursor at 0 for both participants, so what they have not read shows up at login.
    private const string AppendSql = """
        WITH input AS (
            SELECT *
            FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])
                WITH ORDINALITY AS t(conv, sender_id, sender_name, body, client_time, ts, client_id, ord)
        ),
        duplicate AS (
            SELECT i.ord, m.conversation_id, m.seq, m.sender_name, m.body, m.client_time, m.ts
            FROM input i
            JOIN messages m ON m.sender_id = i.sender_id AND m.client_id = i.client_id
        ),
        fresh AS (
            SELECT i.* FROM input i WHERE NOT EXISTS (SELECT 1 FROM duplicate d WHERE d.ord = i.ord)
        ),
        counts AS (
            SELECT conv, count(*) AS n FROM fresh GROUP BY conv
        ),
        allocated AS (
            INSERT INTO conversations AS c (id, last_seq)
            SELECT conv, n FROM counts ORDER BY conv
            ON CONFLICT (id) DO UPDATE SET last_seq = c.last_seq + excluded.last_seq
            RETURNING c.id, c.last_seq
        ),
        numbered AS (
            SELECT f.*, a.last_seq - k.n + row_number() OVER (PARTITION BY f.conv ORDER BY f.ord) AS seq
            FROM fresh f
            JOIN counts k ON k.conv = f.conv
            JOIN allocated a ON a.id = f.conv
        ),
        inserted AS (
            INSERT INTO messages (conversation_id, seq, sender_id, sender_name, body, client_time, ts, client_id)
            SELECT conv, seq, sender_id, sender_name, body, client_time, ts, client_id FROM numbered
        ),
        started AS (
            SELECT k.conv FROM counts k JOIN allocated a ON a.id = k.conv WHERE k.conv < 0 AND a.last_seq = k.n
        ),
        participants AS (
            INSERT INTO cursors (user_id, conversation_id, delivered_seq)
            SELECT ((-conv) >> 31)::int, conv, 0 FROM started
            UNION
            SELECT ((-conv) & 2147483647)::int, conv, 0 FROM started
            ON CONFLICT (user_id, conversation_id) DO NOTHING
        )
        SELECT ord, seq, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::bigint FROM numbered
        UNION ALL
        SELECT ord, seq, conversation_id, sender_name, body, client_time, ts FROM duplicate
        """;

    // Planning the statement costs more than running it for a typical batch, and knowing the arrays' lengths
    // would not change the plan: plan it once per connection. (Reset when the connection returns to the pool.)
    private const string SessionSql = "SET plan_cache_mode = force_generic_plan";

    private const int MaxAttempts = 5;

    /// <summary>Column lengths of the messages table (characters; a UTF-16 length never undercounts them).</summary>
    private const int MaxNameLength = 64, MaxClientTimeLength = 64, MaxClientIdLength = 64;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<MessageWriter> _logger;
    private readonly int _maxBatch;
    private readonly Channel<PendingAppend> _queue;
    private readonly CancellationTokenSource _abort = new();
    private readonly NpgsqlCommand _command;
    private readonly Batch _batch;
    private NpgsqlConnection? _connection;
    private Task _loop = Task.CompletedTask;

    public MessageWriter(NpgsqlDataSource dataSource, IOptions<StoreOptions> options, ILogger<MessageWriter> logger)
    {
        _dataSource = dataSource;
        _logger = logger;
        _maxBatch = options.Value.MaxBatch;
        _queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(options.Value.WriterQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _batch = new Batch(_maxBatch);
        _command = new NpgsqlCommand(AppendSql)
        {
            Parameters =
            {
                new NpgsqlParameter<List<long>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, TypedValue = _batch.Conversations },
                new NpgsqlParameter<List<int>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, TypedValue = _batch.Senders },
                new NpgsqlParameter<List<string>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = _batch.SenderNames },
                new NpgsqlParameter<List<string>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = _batch.Bodies },
                new NpgsqlParameter<List<string>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = _batch.ClientTimes },
                new NpgsqlParameter<List<long>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, TypedValue = _batch.Timestamps },
                new NpgsqlParameter<List<string?>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = _batch.ClientIds },
            },
        };
    }

    public ValueTask<AppendResult> AppendAsync(ChatMessage message, CancellationToken ct)
    {
        Validate(message);
        var pending = new PendingAppend(message, new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_queue.Writer.TryWrite(pending))
        {
            return new ValueTask<AppendResult>(pending.Completion.Task.WaitAsync(ct));
        }

        return EnqueueAsync(pending, ct);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Refuses new messages, then commits what is queued; past <paramref name="cancellationToken"/>, fails it instead.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await using (cancellationToken.Register(_abort.Cancel))
        {
            await _loop;
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _command.Dispose();
        _abort.Dispose();
    }

    private async ValueTask<AppendResult> EnqueueAsync(PendingAppend pending, CancellationToken ct)
    {
        await _queue.Writer.WriteAsync(pending, ct);
        return await pending.Completion.Task.WaitAsync(ct);
    }

    /// <summary>Refuses what the database would refuse, so that one bad message cannot fail a whole batch.</summary>
    private static void Validate(ChatMessage m)
    {
        CheckText(m.SenderName, MaxNameLength, "SenderName");
        CheckText(m.Body, int.MaxValue, "Body");
        CheckText(m.ClientTime, MaxClientTimeLength, "ClientTime");
        if (m.ClientId is not null)
        {
            CheckText(m.ClientId, MaxClientIdLength, "ClientId");
        }
    }

    private static void CheckText(string value, int maxLength, string field)
    {
        ArgumentNullException.ThrowIfNull(value, field);
        if (value.Length > maxLength)
        {
            throw new ArgumentException($"{field} is longer than {maxLength} characters.", field);
        }

        // PostgreSQL text cannot hold NUL, and UTF-8 cannot encode a lone surrogate.
        var span = value.AsSpan();
        if (span.Contains('\0') || (span.ContainsAnyInRange('\uD800', '\uDFFF') && !IsWellFormed(span)))
        {
            throw new ArgumentException($"{field} contains a NUL or an unpaired surrogate.", field);
        }
    }

    private static bool IsWellFormed(ReadOnlySpan<char> s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync())
            {
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
        try
        {
            batch.Prepare();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await ExecuteAsync(batch, _abort.Token);
                    break;
                }
                catch (PostgresException ex) when (attempt < MaxAttempts && IsRetryable(ex))
                {
                    _logger.BatchRetry(batch.Items.Count, attempt, ex);
                    await Task.Delay(TimeSpan.FromMilliseconds(attempt * 2), _abort.Token);
                }
            }

            batch.Complete();
        }
        catch (Exception ex)
        {
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
    /// Deadlocks and serialisation failures, and a unique violation on a cid that another replica stored
    /// meanwhile: the statement was rolled back whole, and running it again sees the winner's rows.
    /// </summary>
    private static bool IsRetryable(PostgresException ex) => ex.SqlState
        is PostgresErrorCodes.DeadlockDetected
        or PostgresErrorCodes.SerializationFailure
        or PostgresErrorCodes.UniqueViolation;

    private async Task ExecuteAsync(Batch batch, CancellationToken ct)
    {
        if (_connection is not { State: ConnectionState.Open })
        {
            await DropConnectionAsync();
            _connection = await _dataSource.OpenConnectionAsync(ct);
            await using (var setup = new NpgsqlCommand(SessionSql, _connection))
            {
                await setup.ExecuteNonQueryAsync(ct);
            }

            _command.Connection = _connection;
            await _command.PrepareAsync(ct);
        }

        batch.ResetResults();
        await using (var reader = await _command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
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

    private readonly record struct PendingAppend(ChatMessage Message, TaskCompletionSource<AppendResult> Completion);

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
