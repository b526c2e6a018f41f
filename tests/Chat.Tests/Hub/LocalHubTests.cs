using System.Buffers;
using System.Text;
using Chat.Domain;
using Chat.Protocol;
using Chat.Server;
using Chat.Server.Hub;
using Chat.Server.Sessions;
using Chat.Server.Transport;
using Chat.Tests.Handlers;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Hub;

/// <summary>
/// The hub of a single node over sessions on in-memory pipes: who gets a routed delivery, who is closed, who hears of
/// whom. No socket, no Redis.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class LocalHubTests
{
    private static LocalHub Hub(LoginPolicy multiple) =>
        new(Options.Create(new LoginOptions { Multiple = multiple }), Options.Create(new ChatServerOptions()));

    private static StoredMessage Stored(long conversation, int from, int to, long seq, string text) =>
        new(new ChatMessage(conversation, from, "u" + from, to, text, "t", 1, null), seq);

    [Fact]
    public async Task A_message_reaches_every_session_of_its_recipient_here_and_a_push_only_the_v2_ones()
    {
        var hub = Hub(LoginPolicy.Allow);
        var seed = await Client.OnlineAsync(hub, 2, v2: false);
        var v2 = await Client.OnlineAsync(hub, 2, v2: true);

        hub.Route(Delivery.PushToUser(1, 2, ServerFrames.Typing(1, "u1", isGroup: false, 2)));
        hub.Route(Delivery.Sent(Stored(ConversationId.Direct(1, 2), 1, 2, 1, "hi"), sendingSession: 99));

        Assert.StartsWith("""{"msgid":19,"id":1""", await v2.ReadAsync(), StringComparison.Ordinal);
        Assert.Contains("\"msg\":\"hi\"", await v2.ReadAsync(), StringComparison.Ordinal);
        Assert.Contains("\"msg\":\"hi\"", await seed.ReadAsync(), StringComparison.Ordinal); // the push never came first
    }

    [Fact]
    public async Task A_group_message_skips_the_session_that_sent_it_but_reaches_the_senders_other_sessions()
    {
        var hub = Hub(LoginPolicy.Allow);
        var sending = await Client.OnlineAsync(hub, 1, groups: 5);
        var other = await Client.OnlineAsync(hub, 1, groups: 5);
        var bob = await Client.OnlineAsync(hub, 2, groups: 5);

        hub.Route(Delivery.Sent(Stored(ConversationId.Group(5), 1, 5, 1, "to all"), sending.Session.SessionId));
        hub.Route(Delivery.PushToUser(2, 1, ServerFrames.Presence(2, online: true)));

        Assert.Contains("\"msg\":\"to all\"", await other.ReadAsync(), StringComparison.Ordinal);
        Assert.Contains("\"msg\":\"to all\"", await bob.ReadAsync(), StringComparison.Ordinal);
        Assert.StartsWith("""{"msgid":20""", await sending.ReadAsync(), StringComparison.Ordinal); // not the message first
    }

    [Fact]
    public async Task A_login_that_replaces_closes_the_older_session_with_errno_12_and_not_itself()
    {
        var hub = Hub(LoginPolicy.Replace);
        var older = await Client.OnlineAsync(hub, 1);
        var newer = await Client.OnlineAsync(hub, 1);

        Assert.Contains("\"errno\":12", await older.ReadAsync(), StringComparison.Ordinal);
        Assert.True(older.Session.Connection.Closing);
        Assert.False(newer.Session.Connection.Closing);
        await hub.DisconnectAsync(older.Session, []); // as its connection's end does
        Assert.Same(newer.Session, hub.Find(1));
    }

    [Fact]
    public async Task A_group_left_push_ends_the_membership_of_every_session_of_its_recipient_seed_ones_too()
    {
        var hub = Hub(LoginPolicy.Allow);
        var seed = await Client.OnlineAsync(hub, 2, v2: false, groups: 5);
        var v2 = await Client.OnlineAsync(hub, 2, groups: 5);

        hub.Route(Delivery.GroupLeftBy(1, 2, 5, ServerFrames.MemberGone(5, 2, by: 1)));

        Assert.StartsWith("""{"msgid":22,"groupid":5""", await v2.ReadAsync(), StringComparison.Ordinal);
        Assert.False(seed.Session.IsMember(5));
        Assert.False(v2.Session.IsMember(5));
        Assert.Equal(0, hub.GroupCount);
    }

    [Fact]
    public async Task A_watcher_hears_when_a_friend_comes_online_and_goes_offline_and_not_once_it_has_left()
    {
        var hub = Hub(LoginPolicy.Reject);
        var carol = await Client.OnlineAsync(hub, 3);
        hub.Watch(carol.Session, [1]);

        var alice = await Client.OnlineAsync(hub, 1);
        Assert.Equal("""{"msgid":20,"id":1,"state":"online"}""", await carol.ReadAsync());
        await hub.DisconnectAsync(alice.Session, []);
        await hub.ReleaseAsync(alice.Session);
        Assert.Equal("""{"msgid":20,"id":1,"state":"offline"}""", await carol.ReadAsync());

        await hub.DisconnectAsync(carol.Session, []);
        await Client.OnlineAsync(hub, 1);
        carol.Session.Deliver(Delivery.PushToUser(9, 3, "{\"marker\":1}\n"u8.ToArray()));
        Assert.Equal("{\"marker\":1}", await carol.ReadAsync()); // no PRESENCE before it: she no longer watches
    }

    /// <summary>One logged-in session on in-memory pipes; LOGIN_ACK is read already.</summary>
    private sealed class Client
    {
        private readonly MemoryConnection _pipes = new();

        private Client(int userId, bool v2)
        {
            var connection = new ChatConnection(_pipes.Context, new ConnectionOptions());
            connection.StartWriter();
            Session = new UserSession(userId, "u" + userId, connection, new NoCursors(), v2: v2);
        }

        public UserSession Session { get; }

        public static async Task<Client> OnlineAsync(LocalHub hub, int userId, bool v2 = true, params int[] groups)
        {
            var client = new Client(userId, v2);
            Assert.True(await hub.ConnectAsync(client.Session));
            foreach (var group in groups)
            {
                client.Session.AddGroup(group, 0);
                await hub.JoinGroupAsync(group, client.Session);
            }

            await client.Session.CompleteLoginAsync("{\"ack\":1}\n"u8.ToArray(), [], [], long.MaxValue);
            Assert.Equal("{\"ack\":1}", await client.ReadAsync());
            return client;
        }

        /// <summary>The next frame the client gets, without its newline.</summary>
        public Task<string> ReadAsync() => _pipes.ReadLineAsync();
    }
}
