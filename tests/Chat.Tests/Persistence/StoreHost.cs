using Chat.Domain;
using Chat.Persistence;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Chat.Tests.Persistence;

/// <summary>The persistence layer alone, as <c>AddChatPersistence</c> registers it, on a fresh database.</summary>
public sealed class StoreHost : IAsyncDisposable
{
    private StoreHost(IHost host, TestDatabase database)
    {
        Host = host;
        Database = database;
    }

    public TestDatabase Database { get; }

    public IHost Host { get; }

    public IServiceProvider Services => Host.Services;

    /// <param name="settings">Configuration on top of the database's (e.g. Chat:Store:* options).</param>
    public static async Task<StoreHost> StartAsync(string provider, string prefix, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var database = await TestDatabase.CreateAsync(provider, prefix);
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(database.Settings);
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.AddChatPersistence();
        var host = builder.Build();
        await host.StartAsync();
        return new StoreHost(host, database);
    }

    /// <summary>Runs <paramref name="action"/> on a fresh <see cref="IChatStore"/> in a scope of its own, as a request would.</summary>
    public async Task<T> WithStoreAsync<T>(Func<IChatStore, Task<T>> action)
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<IChatStore>());
    }

    public async Task<T> WithTokensAsync<T>(Func<ISessionTokenStore, Task<T>> action)
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<ISessionTokenStore>());
    }

    public async Task<int> RegisterAsync(string name) =>
        (await WithStoreAsync(store => store.RegisterAsync(name, "hash", CancellationToken.None)))!.Value;

    public Task<Inbox> InboxAsync(int userId, IReadOnlyDictionary<long, long>? resume = null, int limit = 100) =>
        WithStoreAsync(store => store.LoadInboxAsync(userId, resume ?? new Dictionary<long, long>(), limit, CancellationToken.None));

    public IMessageWriter Writer => Services.GetRequiredService<IMessageWriter>();

    /// <summary>Stores each body as a message of <paramref name="sender"/>, one after the other.</summary>
    public async Task AppendAsync(long conversation, int sender, params string[] bodies)
    {
        foreach (var body in bodies)
        {
            await Writer.AppendAsync(MessageWriterTests.Message(conversation, sender, body), CancellationToken.None);
        }
    }

    public Task<long> ScalarAsync(string sql) => Database.ScalarAsync(sql);

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
    }
}
