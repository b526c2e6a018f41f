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

    private UserSession Start(int queueBytes = 1024 * 1024, bool modern = false)
    {
        var connection = new ChatConnection(Connection, new ConnectionOptions { OutboundQueueBytes = queueBytes });
        connection.StartWriter();
        return new UserSession(1, "alice", connection, _cursors, modern);
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

    public async ValueTask DisposeAsync()
    {
        await _pipes.ToServer.CompleteAsync();
        await _pipes.FromServer.CompleteAsync();
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
