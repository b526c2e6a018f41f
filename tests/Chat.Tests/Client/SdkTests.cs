using System.Collections.Concurrent;
using Chat.Protocol;
using Chat.Sdk;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Client;

/// <summary>The .NET client library (Chat.Sdk) against a real replica, over TCP and over WebSocket.</summary>
public sealed class SdkTests(SdkTests.Fixture fixture) : IClassFixture<SdkTests.Fixture>
{
    private static readonly ChatSessionOptions Quick = new() { BackoffFirst = TimeSpan.FromMilliseconds(50), BackoffMax = TimeSpan.FromMilliseconds(400) };

    public sealed class Fixture : IAsyncLifetime
    {
        public Replica Replica { get; private set; } = null!;

        public async Task InitializeAsync() => Replica = await Replica.StartAsync(TestDatabase.Sqlite("sdk"));

        public async Task DisposeAsync() => await Replica.DisposeAsync();
    }

    private Uri Endpoint(bool webSocket) => webSocket
        ? new Uri($"ws://127.0.0.1:{fixture.Replica.HttpPort}/ws")
        : new Uri($"tcp://127.0.0.1:{fixture.Replica.ChatPort}");

    private async Task<(ChatSession Session, int Id, ConcurrentQueue<ChatPush> Messages)> UserAsync(string prefix, bool webSocket)
    {
        var session = new ChatSession(Endpoint(webSocket), Quick);
        var name = TestClient.Unique(prefix);
        var id = await session.RegisterAsync(name, "pw-" + name);
        var messages = new ConcurrentQueue<ChatPush>();
        session.Message += messages.Enqueue;
        var ack = await session.LoginAsync(id, password: "pw-" + name);
        Assert.Equal(id, ack.Id);
        Assert.NotNull(session.Token);
        return (session, id, messages);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_message_is_acknowledged_with_its_seq_and_raised_at_the_peer(bool webSocket)
    {
        var (alice, _, _) = await UserAsync("alice", webSocket);
        var (bob, bobId, received) = await UserAsync("bob", !webSocket); // the other transport: they chat all the same
        await using var _a = alice;
        await using var _b = bob;

        var ack = await alice.SendAsync(bobId, "hello bob");

        Assert.Equal(1, ack.Seq);
        await Wait.UntilAsync(() => received.Count == 1, TimeSpan.FromSeconds(15), "bob's message event");
        Assert.Equal(("hello bob", 1L), (received.Single().Msg, received.Single().Seq));
    }

    [Fact]
    public async Task After_a_broken_link_the_session_logs_in_again_by_itself_and_gets_what_it_missed_once_in_order()
    {
        var (alice, _, _) = await UserAsync("alice", webSocket: false);
        var (bob, bobId, received) = await UserAsync("bob", webSocket: true);
        await using var _a = alice;
        await using var _b = bob;
        await alice.SendAsync(bobId, "before");
        await Wait.UntilAsync(() => received.Count == 1, TimeSpan.FromSeconds(15), "the first message");
        var logins = 0;
        bob.LoggedIn += _ => Interlocked.Increment(ref logins);

        bob.Drop();
        for (var i = 0; i < 5; i++)
        {
            await alice.SendAsync(bobId, $"while away {i}");
        }

        await Wait.UntilAsync(() => Volatile.Read(ref logins) == 1 && received.Count == 6, TimeSpan.FromSeconds(15), "bob back with what he missed");
        Assert.Equal([1L, 2, 3, 4, 5, 6], received.Select(m => m.Seq));
        Assert.Equal(6, bob.Seen(peer: alice.UserId));
    }

    [Fact]
    public async Task A_live_push_right_behind_the_login_ack_comes_after_the_messages_the_ack_carries()
    {
        await using var server = new ScriptedServer();
        await using var session = new ChatSession(new Uri($"tcp://127.0.0.1:{server.Port}"), Quick);
        var seqs = new ConcurrentQueue<long>();
        session.Message += m => seqs.Enqueue(m.Seq);
        var loggingIn = session.LoginAsync(7, password: "secret");
        await server.AcceptAsync();
        var login = Assert.IsType<LoginRequest>(await server.ReceiveAsync());

        // One write: the receive loop reads the live push while the login's caller is only being woken.
        byte[][] missed = [Push(1), Push(2)];
        await server.SendAsync([.. ServerFrames.LoginOk(new LoginAck(7, "me", [], [], [.. missed.Select(f => (ReadOnlyMemory<byte>)f)], [], More: false), objects: true, login.Cid), .. Push(3)]);
        await loggingIn.WaitAsync(TimeSpan.FromSeconds(15));

        await Wait.UntilAsync(() => seqs.Count == 3, TimeSpan.FromSeconds(15), "three messages");
        Assert.Equal([1L, 2, 3], seqs);

        static byte[] Push(long seq) => ServerFrames.Chat(new ChatPush(false, 2, "bob", 7, $"m{seq}", "t", seq, 1));
    }

    [Fact]
    public async Task A_send_whose_link_breaks_before_its_ack_is_resent_with_its_cid_and_stored_once()
    {
        var (alice, _, _) = await UserAsync("alice", webSocket: false);
        var (bob, bobId, received) = await UserAsync("bob", webSocket: false);
        await using var _a = alice;
        await using var _b = bob;

        var sending = alice.SendAsync(bobId, "once");
        alice.Drop();
        var ack = await sending.WaitAsync(TimeSpan.FromSeconds(15));
        await alice.SendAsync(bobId, "after");

        Assert.Equal(1, ack.Seq);
        await Wait.UntilAsync(() => received.Count == 2, TimeSpan.FromSeconds(15), "both messages");
        Assert.Equal([(1L, "once"), (2L, "after")], received.Select(m => (m.Seq, m.Msg)));
    }

    [Fact]
    public async Task A_refusal_is_a_chat_exception_with_the_servers_errno_and_the_session_goes_on()
    {
        var (alice, _, _) = await UserAsync("alice", webSocket: false);
        var (bob, bobId, _) = await UserAsync("bob", webSocket: false);
        await using var _a = alice;
        await using var _b = bob;

        Assert.Equal(ErrorCode.NotFound, (await Assert.ThrowsAsync<ChatException>(() => alice.SendAsync(int.MaxValue, "nobody"))).Errno);
        Assert.Equal(ErrorCode.NotMember, (await Assert.ThrowsAsync<ChatException>(() => alice.SendToGroupAsync(int.MaxValue, "no group"))).Errno);
        Assert.Equal(1, (await alice.SendAsync(bobId, "still served")).Seq);

        await using var wrong = new ChatSession(Endpoint(false), Quick);
        Assert.Equal(ErrorCode.Invalid, (await Assert.ThrowsAsync<ChatException>(() => wrong.LoginAsync(bobId, password: "wrong"))).Errno);
    }

    [Fact]
    public async Task A_token_logs_the_user_in_on_a_new_session()
    {
        var (bob, bobId, _) = await UserAsync("bob", webSocket: true);
        var token = bob.Token!;
        await bob.LogoutAsync();
        await bob.DisposeAsync();

        await using var again = new ChatSession(Endpoint(false), Quick);
        Assert.Equal(bobId, (await again.LoginAsync(bobId, token: token)).Id);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_quiet_session_sends_heartbeats_so_the_servers_idle_timeout_does_not_close_it(bool webSocket)
    {
        var idle = TimeSpan.FromSeconds(2);
        await using var replica = await Replica.StartAsync(TestDatabase.Sqlite("sdkidle"), new Dictionary<string, string?> { ["Chat:IdleTimeout"] = "00:00:02" });
        var endpoint = webSocket ? new Uri($"ws://127.0.0.1:{replica.HttpPort}/ws") : new Uri($"tcp://127.0.0.1:{replica.ChatPort}");
        await using var quiet = new ChatSession(endpoint, new ChatSessionOptions { Heartbeat = TimeSpan.FromMilliseconds(500) });
        var name = TestClient.Unique("quiet");
        var id = await quiet.RegisterAsync(name, "pw-" + name);
        var received = new ConcurrentQueue<ChatPush>();
        var pushed = new ConcurrentQueue<ServerMessage>();
        var lost = 0;
        quiet.Message += received.Enqueue;
        quiet.Pushed += pushed.Enqueue;
        quiet.Online += online => Interlocked.Add(ref lost, online ? 0 : 1);
        await quiet.LoginAsync(id, password: "pw-" + name);

        // Nothing is sent for three idle timeouts: only the heartbeat keeps the connection open.
        await Task.Delay(idle * 3);
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));
        await bob.SendAsync(new { msgid = 6, toid = id, msg = "still there?", time = "t" });

        await Wait.UntilAsync(() => received.Count == 1, TimeSpan.FromSeconds(15), "bob's message");
        Assert.Equal(0, Volatile.Read(ref lost));
        Assert.DoesNotContain(pushed, frame => frame is PongMessage); // the heartbeat's answers are the link's business
    }

    [Fact]
    public async Task A_session_replaced_by_a_newer_login_says_so_and_does_not_take_the_account_back()
    {
        await using var replica = await Replica.StartAsync(TestDatabase.Sqlite("sdkreplace"), new Dictionary<string, string?> { ["Chat:Login:Multiple"] = "replace" });
        var endpoint = new Uri($"tcp://127.0.0.1:{replica.ChatPort}");
        await using var older = new ChatSession(endpoint, Quick);
        var name = TestClient.Unique("two");
        var id = await older.RegisterAsync(name, "pw-" + name);
        await older.LoginAsync(id, password: "pw-" + name);
        var olderPushes = new ConcurrentQueue<ServerMessage>();
        var olderLogins = 0;
        older.Pushed += olderPushes.Enqueue;
        older.LoggedIn += _ => Interlocked.Increment(ref olderLogins);

        await using var newer = new ChatSession(endpoint, Quick);
        var newerPushes = new ConcurrentQueue<ServerMessage>();
        newer.Pushed += newerPushes.Enqueue;
        await newer.LoginAsync(id, password: "pw-" + name);

        await Wait.UntilAsync(() => olderPushes.Any(p => p is ErrorMessage { Errno: ErrorCode.Replaced }), TimeSpan.FromSeconds(15), "errno 12 at the older session");
        // Ten first backoffs (50 ms each) later, the older session has not logged in again: the newer one keeps the account.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.Equal(0, Volatile.Read(ref olderLogins));
        Assert.DoesNotContain(newerPushes, p => p is ErrorMessage);
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));
        var received = new ConcurrentQueue<ChatPush>();
        newer.Message += received.Enqueue;
        await bob.SendAsync(new { msgid = 6, toid = id, msg = "to the newer one", time = "t" });
        await Wait.UntilAsync(() => received.Count == 1, TimeSpan.FromSeconds(15), "the message at the newer session");
    }

    /// <summary>README's ten-line sample, as written there.</summary>
    [Fact]
    public async Task The_readme_sample_sends_a_message()
    {
        int alice, bob;
        await using (var setup = new ChatSession(Endpoint(false)))
        {
            alice = await setup.RegisterAsync(TestClient.Unique("alice"), "secret");
            bob = await setup.RegisterAsync(TestClient.Unique("bob"), "secret");
        }

        var port = fixture.Replica.ChatPort;
        await using var chat = new ChatSession(new Uri($"tcp://127.0.0.1:{port}"));
        chat.Message += m => Console.WriteLine($"{m.SenderName}: {m.Msg}");
        await chat.LoginAsync(alice, password: "secret");
        var stored = await chat.SendAsync(bob, "hello");
        Console.WriteLine($"stored as seq {stored.Seq}");

        Assert.Equal(1, stored.Seq);
    }
}
