using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Chat.Domain;
using Chat.Protocol;
using Chat.Server;
using Chat.Server.Files;
using Chat.Server.Handlers;
using Chat.Server.Hub;
using Chat.Server.Sessions;
using Chat.Server.Telemetry;
using Chat.Server.Transport;
using Chat.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Handlers;

/// <summary>
/// The dispatcher and the real handlers against fakes of the Domain ports, over in-memory pipes: no database, no
/// socket. The message log holds every append until the test stores it.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class DispatcherTests : IAsyncDisposable
{
    private const int InFlight = 4;
    private readonly FakeStore _store = new();
    private readonly HeldWriter _writer = new();
    private readonly ServiceProvider _services;

    public DispatcherTests()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chat:PasswordIterations"] = "10000",
            ["Chat:Login:MinPasswordLength"] = "1",
            ["Chat:MaxInFlightPerConnection"] = InFlight.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddSingleton(TimeProvider.System)
            .AddSingleton<IChatStore>(_store)
            .AddSingleton<ISessionTokenStore>(new FakeTokens())
            .AddSingleton<IMessageWriter>(_writer)
            .AddSingleton<ICursorWriter>(new NoCursors())
            .AddSingleton<IReadMarkWriter>(new NoCursors())
            .AddSingleton<IPeopleStore>(new FakePeople())
            .AddSingleton<IAdminStore>(new NoBans());
        services.AddChatOptions<ChatServerOptions>();
        services.AddChatTelemetry().AddChatHub(redisConnectionString: null).AddChatTransport().AddChatSessions().AddChatHandlers().AddChatFiles(configuration);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    [Fact]
    public async Task Before_login_only_login_register_and_ping_are_served()
    {
        await using var client = Connect();

        await client.SendAsync(new OneChatRequest(2, "hi") { Cid = Cid.From(5) });
        await client.SendAsync(new PingRequest());

        Assert.Equal("""{"msgid":11,"cid":5,"errno":3,"errmsg":"log in first"}""", await client.ReadAsync());
        Assert.Equal("""{"msgid":14}""", await client.ReadAsync());
    }

    [Fact]
    public async Task A_cid_comes_back_exactly_as_sent_a_number_as_a_number()
    {
        await using var client = await LoggedInAsync("alice");

        // The issue's frame: {"msgid":9,"groupid":5,"cid":2} was answered with "cid":"2".
        await client.SendRawAsync("""{"msgid":9,"groupid":5,"cid":2}""");
        await client.SendRawAsync("""{"msgid":9,"groupid":5,"cid":"2"}""");
        await client.SendRawAsync("""{"msgid":9,"groupid":5,"cid":2.50}""");

        Assert.StartsWith("""{"msgid":11,"cid":2,"errno":6""", await client.ReadAsync(), StringComparison.Ordinal);
        Assert.StartsWith("""{"msgid":11,"cid":"2","errno":6""", await client.ReadAsync(), StringComparison.Ordinal);
        Assert.StartsWith("""{"msgid":11,"cid":2.50,"errno":6""", await client.ReadAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_is_not_read_while_its_limit_of_sends_waits_to_be_stored_and_acks_keep_their_order()
    {
        await using var bob = await LoggedInAsync("bob");
        await using var alice = await LoggedInAsync("alice");

        for (var i = 1; i <= InFlight; i++)
        {
            await alice.SendAsync(new OneChatRequest(bob.Id, "m" + i) { Cid = Cid.From(i) });
        }

        // One more: not taken until one of those is stored.
        var next = alice.SendAsync(new OneChatRequest(bob.Id, "m5") { Cid = Cid.From(5) });
        Assert.False(next.IsCompleted);
        Assert.Equal(InFlight, _writer.Held);

        _writer.Store(1);
        await next.WaitAsync(TimeSpan.FromSeconds(10));
        _writer.Store(InFlight);

        for (var i = 1; i <= InFlight + 1; i++)
        {
            Assert.StartsWith($$"""{"msgid":11,"cid":{{i}},"errno":0,"seq":{{i}},""", await alice.ReadAsync(), StringComparison.Ordinal);
            Assert.Contains($$""","msg":"m{{i}}",""", await bob.ReadAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_store_failure_is_never_answered_as_the_clients_mistake_and_a_bad_cid_never_reaches_the_store()
    {
        await using var bob = await LoggedInAsync("bob");
        await using var alice = await LoggedInAsync("alice");

        // A driver's ArgumentException during the commit: the server's failure (errno 10), not a bad request (errno 4).
        await alice.SendAsync(new OneChatRequest(bob.Id, "hi") { Cid = Cid.From("m1") });
        _writer.Fail(new ArgumentException("a driver's complaint about a parameter"));
        Assert.StartsWith("""{"msgid":11,"cid":"m1","errno":10,""", await alice.ReadAsync(), StringComparison.Ordinal);

        // What the log could not keep is the client's mistake, answered before anything is stored, on every send.
        await alice.SendAsync(new OneChatRequest(bob.Id, "x") { Cid = Cid.From("c1 ") });
        await alice.SendAsync(new RecallRequest(bob.Id, null, 1) { Cid = Cid.From("c2 ") });
        Assert.StartsWith("""{"msgid":11,"cid":"c1 ","errno":4,""", await alice.ReadAsync(), StringComparison.Ordinal);
        Assert.Contains(""""errno":4,"errmsg":"cid must not end with a space"""", await alice.ReadAsync(), StringComparison.Ordinal);
        Assert.Equal(0, _writer.Held);
    }

    [Fact]
    public async Task A_request_lacking_a_field_is_answered_as_that_requests_failure()
    {
        await using var client = Connect();

        await client.SendRawAsync("""{"msgid":1,"id":7,"cid":"l"}""");

        Assert.Equal("""{"msgid":2,"errno":1,"errmsg":"LOGIN needs id and password (or token)","cid":"l"}""", await client.ReadAsync());
    }

    public async ValueTask DisposeAsync() => await _services.DisposeAsync();

    private Client Connect() => new(_services.GetRequiredService<IConnectionApplication>(), _services.GetRequiredService<IOptions<ConnectionOptions>>().Value);

    private async Task<Client> LoggedInAsync(string name)
    {
        var client = Connect();
        await client.SendAsync(new RegisterRequest(name, "pw"));
        var id = Assert.IsType<RegAckMessage>(ServerFrameReader.Read(Encoding.UTF8.GetBytes(await client.ReadAsync()))).Id!.Value;
        await client.SendAsync(new LoginRequest(id, "pw"));
        Assert.StartsWith("""{"msgid":2,"errno":0""", await client.ReadAsync(), StringComparison.Ordinal);
        client.Id = id;
        return client;
    }

    /// <summary>A connection on in-memory pipes, fed frame by frame as the read loop would.</summary>
    private sealed class Client : IAsyncDisposable
    {
        private readonly MemoryConnection _pipes = new();
        private readonly ChatConnection _connection;
        private readonly IConnectionState _state;

        public Client(IConnectionApplication application, ConnectionOptions options)
        {
            _connection = new ChatConnection(_pipes.Context, options);
            _connection.StartWriter();
            _state = application.Open(_connection);
        }

        public int Id { get; set; }

        /// <summary>Completes once the next frame may be read, as the read loop waits on it.</summary>
        public Task SendAsync(Request request) => SendRawAsync(Encoding.UTF8.GetString(RequestWriter.ToFrame(request)).TrimEnd('\n'));

        public Task SendRawAsync(string frame) => _state.OnFrameAsync(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(frame)), CancellationToken.None).AsTask();

        /// <summary>The next frame the client gets, without its newline.</summary>
        public Task<string> ReadAsync() => _pipes.ReadLineAsync();

        public async ValueTask DisposeAsync()
        {
            await _state.DisposeAsync();
            await _connection.CompleteWriterAsync();
        }
    }
}
