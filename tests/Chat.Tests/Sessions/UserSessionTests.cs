using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Chat.Domain;
using Chat.Server.Sessions;
using Chat.Server.Transport;
using Chat.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;

namespace Chat.Tests.Sessions;

/// <summary>A login over a connection on in-memory pipes: what reaches the client, and which cursors move when.</summary>
[Trait("Kind", "Unit")]
public sealed class UserSessionTests : IAsyncDisposable
{
    private readonly MemoryConnection _pipes = new();
    private readonly RecordingCursors _cursors = new();
    private DefaultConnectionContext Connection => _pipes.Context;

    private readonly ManualTimers _timers = new();
    private readonly List<(long After, long Before)> _fetched = [];
    private IReadOnlyList<Delivery> _inStore = [];

    private UserSession Start(int queueBytes = 1024 * 1024, bool modern = false, bool inOrder = false)
    {
        var connection = new ChatConnection(Connection, new ConnectionOptions { OutboundQueueBytes = queueBytes });
        connection.StartWriter();
        var gaps = new GapFill(
            (_, _, after, before) =>
            {
                lock (_fetched) _fetched.Add((after, before));
                return Task.FromResult<IReadOnlyList<Delivery>>([.. _inStore.Where(d => d.Seq > after && d.Seq < before)]);
            },
            _timers,
            new DeliveryOptions { MaxHeld = 8 });
        return new UserSession(1, "alice", connection, _cursors, v2: modern, inOrder ? gaps : null);
    }

    private async Task<UserSession> LoggedInAsync(long conversation, long cursor)
    {
        var user = Start(inOrder: true);
        user.Start(conversation, cursor, cursor);
        await user.CompleteLoginAsync(Encoding.UTF8.GetBytes("{\"ack\":1}\n"), [], [], long.MaxValue);
        await ReadLinesAsync(1);
        return user;
    }

    private static Delivery Message(long conversation, long seq) =>
        new(conversation, seq, 2, 1, Encoding.UTF8.GetBytes($"{{\"seq\":{seq}}}\n"));

    private async Task<string> ReadLinesAsync(int count)
    {
        var lines = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var text = "";
        while (lines.Count < count)
        {
            var result = await _pipes.FromServer.ReadAsync(deadline.Token);
            text += Encoding.UTF8.GetString(result.Buffer.ToArray());
            _pipes.FromServer.AdvanceTo(result.Buffer.End);
            lines = [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
        }

        return string.Join("|", lines);
    }

    [Fact]
    public async Task Live_messages_during_login_wait_for_login_ack_and_skip_what_it_carried()
    {
        var user = Start();
        user.Start(-5, 3);

        user.Deliver(Message(-5, 5)); // arrives while LOGIN_ACK is being prepared
        user.Deliver(Message(-5, 6));
        await user.CompleteLoginAsync(Encoding.UTF8.GetBytes("{\"ack\":1}\n"), [(-5, 4), (-5, 5)], [], long.MaxValue);

        Assert.Equal("{\"ack\":1}|{\"seq\":6}", await ReadLinesAsync(2));
        await Wait.UntilAsync(() => _cursors.Last(1, -5) == 6, TimeSpan.FromSeconds(10), "cursor moves to 6 once written");
    }

    [Fact]
    public async Task Offline_messages_beyond_login_ack_follow_it_in_order_before_live_ones()
    {
        var user = Start();
        user.Start(-5, 0);
        user.Deliver(Message(-5, 4)); // live, while the login is answered

        // A window of 12 bytes: each 10-byte message waits until the one before it has been written.
        await user.CompleteLoginAsync(Encoding.UTF8.GetBytes("{\"ack\":1}\n"), [(-5, 1)], [Message(-5, 2), Message(-5, 3)], window: 12);

        Assert.Equal("{\"ack\":1}|{\"seq\":2}|{\"seq\":3}|{\"seq\":4}", await ReadLinesAsync(4));
        await Wait.UntilAsync(() => _cursors.Last(1, -5) == 4, TimeSpan.FromSeconds(10), "cursor moves to 4 once written");
    }

    [Theory]
    [InlineData(true, "{\"ack\":1}|{\"push\":1}|{\"seq\":1}|{\"push\":2}|{\"push\":2}|{\"seq\":2}")]
    [InlineData(false, "{\"ack\":1}|{\"seq\":1}|{\"seq\":2}")]
    public async Task Pushes_reach_v2_logins_only_and_never_move_a_cursor(bool modern, string expected)
    {
        var user = Start(modern: modern);
        Delivery Push(int n) => Delivery.PushToUser(2, 1, Encoding.UTF8.GetBytes($"{{\"push\":{n}}}\n"));
        user.Deliver(Push(1)); // parked while the login is answered, like a chat message
        await user.CompleteLoginAsync(Encoding.UTF8.GetBytes("{\"ack\":1}\n"), [], [], long.MaxValue);

        user.Deliver(Message(-5, 1));
        user.Deliver(Push(2));
        user.Deliver(Push(2)); // a push carries no seq: nothing to take it for a repeat by
        user.Deliver(Message(-5, 2));

        Assert.Equal(expected, await ReadLinesAsync(expected.Split('|').Length));
        await Wait.UntilAsync(() => _cursors.Last(1, -5) == 2, TimeSpan.FromSeconds(10), "the chat messages' cursor moves");
        Assert.Null(_cursors.Last(1, ConversationId.Direct(2, 1)));
    }

    [Fact]
    public async Task A_delivery_skipping_this_session_is_not_written()
    {
        var user = Start(modern: true);
        await user.CompleteLoginAsync(Encoding.UTF8.GetBytes("{\"ack\":1}\n"), [], [], long.MaxValue);

        user.Deliver(Message(-5, 1) with { ExceptSession = user.SessionId });
        user.Deliver(Message(-5, 2) with { ExceptSession = user.SessionId + 1 });

        Assert.Equal("{\"ack\":1}|{\"seq\":2}", await ReadLinesAsync(2));
    }

    [Fact]
    public async Task A_repeated_message_is_written_once()
    {
        var user = Start();
        await user.CompleteLoginAsync(Encoding.UTF8.GetBytes("{\"ack\":1}\n"), [], [], long.MaxValue);

        user.Deliver(Message(7, 1));
        user.Deliver(Message(7, 1));
        user.Deliver(Message(7, 2));

        Assert.Equal("{\"ack\":1}|{\"seq\":1}|{\"seq\":2}", await ReadLinesAsync(3));
    }

    [Fact]
    public async Task A_cursor_does_not_jump_a_gap()
    {
        var user = Start();
        user.Start(7, 0);
        await user.CompleteLoginAsync(Encoding.UTF8.GetBytes("{\"ack\":1}\n"), [], [], long.MaxValue);

        user.Deliver(Message(7, 1));
        user.Deliver(Message(7, 3)); // 2 was lost on the way
        await ReadLinesAsync(3);
        await user.Connection.WhenWrittenAsync();

        Assert.Equal(1, _cursors.Last(1, 7));
        user.Sent(7, 2); // e.g. the user's own message fills the gap
        Assert.Equal(3, _cursors.Last(1, 7));
    }

    [Fact]
    public async Task A_client_that_does_not_read_is_disconnected_not_waited_for()
    {
        var user = Start(queueBytes: 64 * 1024);
        await user.CompleteLoginAsync(new byte[] { (byte)'\n' }, [], [], long.MaxValue);

        // The client never reads: the pipe stops accepting, the writer stalls, the queue fills.
        var big = new byte[1024 * 1024];
        big[^1] = (byte)'\n';
        for (var seq = 1; seq <= 1000 && !Connection.ConnectionClosed.IsCancellationRequested; seq++)
        {
            user.Deliver(new Delivery(7, seq, 2, 1, big));
        }

        await Wait.UntilAsync(() => Connection.ConnectionClosed.IsCancellationRequested, TimeSpan.FromSeconds(10), "the slow client is aborted");
    }

    [Fact]
    public async Task An_entry_that_comes_early_waits_for_the_one_before_it()
    {
        var user = await LoggedInAsync(7, 4);

        user.Deliver(Message(7, 6)); // 5 is on another road (the other replica's bus)
        user.Deliver(Message(7, 7));
        user.Deliver(Message(7, 5));

        Assert.Equal("{\"seq\":5}|{\"seq\":6}|{\"seq\":7}", await ReadLinesAsync(3));
        Assert.Empty(_fetched);
        Assert.Equal(0, _timers.Armed);
    }

    [Fact]
    public async Task The_users_own_message_closes_the_gap_it_left()
    {
        var user = await LoggedInAsync(7, 4);

        user.Deliver(Message(7, 6)); // 5 is the user's own, still being answered
        user.Sent(7, 5);
        user.Deliver(Message(7, 7));

        Assert.Equal("{\"seq\":6}|{\"seq\":7}", await ReadLinesAsync(2));
        Assert.Empty(_fetched);
    }

    [Fact]
    public async Task A_gap_that_stays_open_is_filled_from_the_store_in_order()
    {
        var user = await LoggedInAsync(7, 4);
        _inStore = [Message(7, 5), Message(7, 6) with { SenderId = 1 }, Message(7, 7)];

        user.Deliver(Message(7, 8)); // 5–7 were published by a replica whose bus lost them
        user.Deliver(Message(7, 9));
        await _timers.FireAsync();

        // The store's entries in order (the user's own 6 not: a session gets those as ACKs), then what was held.
        Assert.Equal("{\"seq\":5}|{\"seq\":7}|{\"seq\":8}|{\"seq\":9}", await ReadLinesAsync(4));
        Assert.Equal([(4L, 8L)], _fetched);
        user.Deliver(Message(7, 6)); // late: never out of order
        await user.Connection.WhenWrittenAsync();
        Assert.Equal(5, _cursors.Last(1, 7)); // the cursor waits at the gap: 6 comes at the next login
    }

    [Fact]
    public async Task A_gap_the_store_cannot_fill_is_skipped_and_a_late_entry_is_dropped()
    {
        var user = await LoggedInAsync(7, 4);

        user.Deliver(Message(7, 6));
        await _timers.FireAsync();
        user.Deliver(Message(7, 5));
        user.Deliver(Message(7, 7));

        Assert.Equal("{\"seq\":6}|{\"seq\":7}", await ReadLinesAsync(2));
        await user.Connection.WhenWrittenAsync();
        Assert.Equal(4, _cursors.Last(1, 7) ?? 4);
    }

    [Fact]
    public async Task More_held_than_the_bound_gives_the_gap_up_at_once()
    {
        var user = await LoggedInAsync(7, 0);

        for (var seq = 2; seq <= 10; seq++)
        {
            user.Deliver(Message(7, seq)); // 9 held: one over MaxHeld
        }

        Assert.Equal(string.Join("|", Enumerable.Range(2, 9).Select(seq => $"{{\"seq\":{seq}}}")), await ReadLinesAsync(9));
        Assert.Empty(_fetched);
    }

    public async ValueTask DisposeAsync()
    {
        await _pipes.ToServer.CompleteAsync();
        await _pipes.FromServer.CompleteAsync();
    }

    /// <summary>Timers that fire when the test says.</summary>
    private sealed class ManualTimers : TimeProvider
    {
        private readonly List<Timer> _timers = [];

        public int Armed
        {
            get
            {
                lock (_timers) return _timers.Count(t => !t.Disposed);
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new Timer(() => callback(state));
            lock (_timers) _timers.Add(timer);
            return timer;
        }

        /// <summary>Fires every armed timer, then waits for the fill it started.</summary>
        public async Task FireAsync()
        {
            Timer[] armed;
            lock (_timers) armed = [.. _timers.Where(t => !t.Disposed)];
            Assert.NotEmpty(armed);
            foreach (var timer in armed)
            {
                timer.Fire();
            }

            await Task.Yield();
        }

        private sealed class Timer(Action fire) : ITimer
        {
            public bool Disposed { get; private set; }

            public void Fire() => fire();

            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose() => Disposed = true;

            public ValueTask DisposeAsync()
            {
                Disposed = true;
                return ValueTask.CompletedTask;
            }
        }
    }

    private sealed class RecordingCursors : ICursorWriter
    {
        private readonly Dictionary<(int, long), long> _last = [];

        public long? Last(int user, long conversation)
        {
            lock (_last) return _last.TryGetValue((user, conversation), out var seq) ? seq : null;
        }

        public void Advance(int userId, long conversationId, long seq)
        {
            lock (_last) _last[(userId, conversationId)] = seq;
        }

        public Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
    }
}
