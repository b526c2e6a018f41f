using System.Data.Common;
using System.Diagnostics;
using System.Threading.Channels;
using Chat.Domain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Persistence;

/// <summary>
/// The durable message log, with group commit. Senders queue messages; a loop takes everything queued (up to
/// <see cref="StoreOptions.MaxBatch"/>) and stores it in one transaction — seqs allocated, repeated cids found,
/// rows inserted, new direct conversations' cursors created — then completes every sender. The statement is the
/// provider's (<see cref="DatabaseProvider.CreateAppendStatement"/>); the queueing, batching, retrying and answering
/// here are the same for every engine.
/// With <see cref="StoreOptions.WriterLanes"/> above 1 there are that many such loops, each with its own queue
/// and connection; a conversation always goes to the same one, so its messages are numbered in the order they
/// were queued either way. A singleton and a hosted service: stopping it refuses new messages, then drains and
/// commits the queues.
/// </summary>
public sealed class MessageWriter : IMessageWriter, IHostedService, IDisposable
{
    private const int MaxAttempts = 5;

    private readonly Lane[] _lanes;
    private readonly CancellationTokenSource _abort = new();

    /// <param name="offline">Webhooks on: asked once per batch who of its recipients is offline (<see cref="OutboxRows"/>). Null: nothing asked.</param>
    public MessageWriter(DatabaseProvider provider, IOptions<StoreOptions> options, ILogger<MessageWriter> logger, StoreMetrics? metrics = null, IOfflineRecipients? offline = null)
    {
        var o = options.Value;
        var capacity = Math.Max(1, o.WriterQueueCapacity / o.WriterLanes);
        _lanes = new Lane[o.WriterLanes];
        for (var i = 0; i < _lanes.Length; i++)
        {
            _lanes[i] = new Lane(provider, logger, metrics, o.MaxBatch, capacity, o.FailoverTimeout, _abort.Token) { Offline = offline, CommitDelay = o.CommitDelay };
        }

        metrics?.Meter.CreateObservableGauge("chat.store.queue.depth", () => QueueDepth, "{message}", "Messages waiting for the writer");
    }

    /// <summary>Messages queued and not yet taken into a batch, all lanes together.</summary>
    public int QueueDepth => _lanes.Sum(l => l.QueueDepth);

    /// <summary>
    /// Completes once the message is committed. Fails, without touching the database, with an
    /// <see cref="ArgumentException"/> when a text is longer than its column or holds a NUL or an unpaired
    /// surrogate (a caller's bug: callers check what users send with <see cref="Validation"/> and answer it themselves;
    /// this only keeps one such message from failing a whole batch), and with a <see cref="ChannelClosedException"/>
    /// once the writer is stopping.
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

    /// <summary>
    /// What the database would refuse, by the same rules callers check users' input with (<see cref="Validation"/>):
    /// refused here, so that one bad message cannot fail a whole batch.
    /// </summary>
    private static ArgumentException? Problem(ChatMessage m) =>
        TextProblem(m.SenderName, Validation.MaxNameLength, "SenderName")
        ?? TextProblem(m.Body, int.MaxValue, "Body")
        ?? TextProblem(m.ClientTime, Validation.MaxClientTimeLength, "ClientTime")
        ?? (Validation.ClientId(m.ClientId) is { } problem ? new ArgumentException(problem, nameof(m)) : null);

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

        // PostgreSQL text cannot hold NUL (refused on every engine alike), and UTF-8 cannot encode an unpaired surrogate.
        return Validation.IsStorable(value)
            ? null
            : new ArgumentException($"{field} contains a NUL or an unpaired surrogate.", field);
    }

    /// <summary>One queue, one loop, one connection.</summary>
    private sealed class Lane : IDisposable
    {
        private readonly DatabaseProvider _provider;
        private readonly ILogger _logger;
        private readonly StoreMetrics? _metrics;
        private readonly int _maxBatch;
        private readonly CancellationToken _abort;
        private readonly Channel<PendingAppend> _queue;
        private readonly AppendBatch _batch;
        private readonly IAppendStatement _statement;
        private readonly TimeSpan _failoverTimeout;
        private DbConnection? _connection;
        private bool _pruned;
        private TaskCompletionSource? _siblings;
        private int _siblingsExpected;

        public Lane(DatabaseProvider provider, ILogger logger, StoreMetrics? metrics, int maxBatch, int capacity, TimeSpan failoverTimeout, CancellationToken abort)
        {
            _failoverTimeout = failoverTimeout;
            _provider = provider;
            _logger = logger;
            _metrics = metrics;
            _maxBatch = maxBatch;
            _abort = abort;
            _queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(capacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
            });
            _batch = new AppendBatch(maxBatch) { LaneId = Random.Shared.NextInt64(1, long.MaxValue) };
            _statement = provider.CreateAppendStatement();
        }

        public Task Loop { get; private set; } = Task.CompletedTask;

        /// <summary><see cref="StoreOptions.CommitDelay"/>.</summary>
        public TimeSpan CommitDelay { get; init; }

        /// <summary>Webhooks on: who of a batch's recipients is offline.</summary>
        public IOfflineRecipients? Offline { get; init; }

        public int QueueDepth => _queue.Reader.Count;

        public ValueTask<AppendResult> AppendAsync(ChatMessage message, CancellationToken ct)
        {
            var pending = new PendingAppend(message, new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));
            if (!_queue.Writer.TryWrite(pending))
            {
                return EnqueueAsync(pending, ct);
            }

            if (Volatile.Read(ref _siblings) is { } siblings && _queue.Reader.Count >= _siblingsExpected)
            {
                siblings.TrySetResult();
            }

            return new ValueTask<AppendResult>(pending.Completion.Task.WaitAsync(ct));
        }

        /// <summary>
        /// Group commit's wait, after a batch of <paramref name="expected"/>: until as many messages are queued again, or
        /// <see cref="CommitDelay"/> passed. Not at all after a batch of one (a lone sender), nor while more than half of
        /// them are queued already (the writer is what they wait for, not the senders).
        /// </summary>
        private async Task AwaitSiblingsAsync(int expected)
        {
            if (CommitDelay == TimeSpan.Zero || expected < 2 || 2 * _queue.Reader.Count > expected)
            {
                return;
            }

            var siblings = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _siblingsExpected = expected;
            Volatile.Write(ref _siblings, siblings);
            if (_queue.Reader.Count < expected)
            {
                await siblings.Task.WaitAsync(CommitDelay).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            Volatile.Write(ref _siblings, null);
        }

        public void Start() => Loop = Task.Run(RunAsync, CancellationToken.None);

        public void Complete() => _queue.Writer.TryComplete();

        public void Dispose()
        {
            _queue.Writer.TryComplete();
            _statement.Dispose();
        }

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
                    await AwaitSiblingsAsync(_batch.Items.Count);
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

        /// <summary>
        /// Stores the batch and completes its senders. A conflict with another writer (deadlock, a Galera
        /// certification failure, a cid stored meanwhile) is retried on the same connection; a connection lost during
        /// the batch is replaced (the next server of a failover list) for up to <see cref="StoreOptions.FailoverTimeout"/>
        /// (when no server can be reached and nothing was sent, the batch fails at once). After
        /// either, the batch's mark tells whether the failed attempt committed after all (<see cref="AppendMarks"/>):
        /// then it is answered from the mark, never stored twice; else it is sent again.
        /// </summary>
        private async Task CommitAsync(AppendBatch batch)
        {
            var started = Stopwatch.GetTimestamp();
            batch.Number++;
            var outcomeUnknown = false;
            try
            {
                batch.Prepare();
                if (Offline is not null)
                {
                    await OutboxRows.FindOfflineAsync(Offline, batch, _logger, _abort);
                }
                for (var (conflicts, reconnects) = (0, 0); ;)
                {
                    try
                    {
                        _connection ??= await OpenConnectionAsync();
                        batch.ResetResults();
                        if (outcomeUnknown)
                        {
                            var committed = await AppendMarks.TryAnswerAsync(_connection, batch, _abort);
                            _logger.BatchOutcomeResolved(batch.Items.Count, committed);
                            outcomeUnknown = false;
                            if (committed)
                            {
                                break;
                            }

                            batch.ResetResults();
                        }

                        await _statement.ExecuteAsync(_connection, batch, _abort);
                        break;
                    }
                    catch (Exception ex) when (!_abort.IsCancellationRequested
                        && (_connection is null ? outcomeUnknown : _provider.IsConnectionLost(ex, _connection))
                        && Stopwatch.GetElapsedTime(started) < _failoverTimeout)
                    {
                        // Whatever the server did with the last statement sent, it is learnt on the next connection; no
                        // server to connect to at all (and nothing to learn) fails the batch at once, as before.
                        outcomeUnknown |= _connection is not null;
                        reconnects++;
                        _logger.BatchReconnect(batch.Items.Count, reconnects, ex);
                        await DropConnectionAsync();
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1_000, 25 << Math.Min(reconnects, 6))), _abort);
                    }
                    catch (Exception ex) when (++conflicts < MaxAttempts && _provider.IsRetryable(ex))
                    {
                        // Rolled back, unless it was our own mark that another attempt of this batch had committed.
                        outcomeUnknown = true;
                        _logger.BatchRetry(batch.Items.Count, conflicts, ex);
                        await Task.Delay(TimeSpan.FromMilliseconds(conflicts * 2), _abort);
                    }
                }

                _metrics?.Committed(batch.Items.Count, Stopwatch.GetElapsedTime(started));
                batch.Complete();
            }
            catch (Exception ex)
            {
                _metrics?.Failed();
                _logger.BatchFailed(batch.Items.Count, ex);
                await DropConnectionAsync(); // whatever broke, the next batch starts on a fresh connection
                batch.Fail(ex);
            }
        }

        /// <summary>A writer connection; the first one a lane opens also deletes the marks of writers long gone.</summary>
        private async Task<DbConnection> OpenConnectionAsync()
        {
            var connection = await _provider.OpenConnectionAsync(_abort);
            if (!_pruned)
            {
                try
                {
                    await AppendMarks.PruneAsync(connection, _abort);
                    _pruned = true;
                }
                catch (DbException ex)
                {
                    // Another replica pruning the same rows (a conflict): one of them will have done it.
                    _pruned = true;
                    _logger.MarksPruneFailed(ex);
                }
            }

            return connection;
        }

        private async ValueTask DropConnectionAsync()
        {
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }
        }
    }
}
