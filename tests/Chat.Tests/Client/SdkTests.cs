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
