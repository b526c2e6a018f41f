using Chat.Server.Hosting;
using Chat.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Integration;

/// <summary>
/// One chat replica running in this test process on real Kestrel sockets (free loopback ports), against a real
/// database (<see cref="TestDatabase"/>: MariaDB, PostgreSQL or SQLite). Built exactly as Program.cs builds it.
/// </summary>
public sealed class Replica : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Replica(WebApplication app, int chatPort, int httpPort)
    {
        _app = app;
        ChatPort = chatPort;
        HttpPort = httpPort;
    }

    public int ChatPort { get; }

    public int HttpPort { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="configure">Runs after the defaults and before the server is added (e.g. to add a logger).</param>
    public static async Task<Replica> StartAsync(
        TestDatabase database, IDictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(Program).Assembly.GetName().Name,
            EnvironmentName = "Testing",
        });
        builder.Configuration.AddInMemoryCollection(database.Settings);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chat:ListenAddress"] = "127.0.0.1",
            ["Chat:Port"] = "0",
            ["Chat:HttpPort"] = "0",
            ["Chat:PasswordIterations"] = "10000",
            // Every test user registers and logs in from 127.0.0.1: the per-address budgets are for real clients.
            ["Chat:RegistrationsPerAddress"] = "1000000",
            ["Chat:PasswordLoginsPerAddress"] = "1000000",
            // Tests written before Chat:Login:MinPasswordLength register with short passwords ("pw"); the rule itself is
            // tested with its default (AccountRulesTests).
            ["Chat:Login:MinPasswordLength"] = "1",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Logging.ClearProviders();
        configure?.Invoke(builder);
        builder.AddServiceDefaults();
        builder.AddChatServer();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapChatEndpoints();
        await app.StartAsync();

        // Kestrel reports the bound endpoints in the order they were configured: chat, then HTTP.
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a).Port)
            .ToArray();
        return new Replica(app, addresses[0], addresses[1]);
    }

    public Task<TestClient> ConnectAsync() => TestClient.ConnectAsync(ChatPort);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A database and one replica shared by the tests of a class; each test uses users of its own.</summary>
public sealed class ReplicaFixture : IAsyncLifetime
{
    public Replica Replica { get; private set; } = null!;

    public TestDatabase Database { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var postgres = await PostgresServer.StartedAsync();
        Database = await postgres.CreateDatabaseAsync("chat");
        Replica = await Replica.StartAsync(Database);
    }

    public async Task DisposeAsync() => await Replica.DisposeAsync();
}
