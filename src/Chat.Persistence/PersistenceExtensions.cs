using System.Data.Common;
using Chat.Domain;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Chat.Persistence;

public static class PersistenceExtensions
{
    /// <summary>Connections one replica opens at most when its connection string does not say.</summary>
    public const int DefaultMaxPoolSize = 20;

    /// <summary>
    /// The store behind <see cref="IChatStore"/>, <see cref="IMessageWriter"/> and <see cref="ICursorWriter"/>: the
    /// engine named by <c>Chat:Store:Provider</c> (mysql, postgres, sqlite) on the database named by the connection
    /// string <c>Chat</c>; with neither, a SQLite file in the working directory. Call it before registering other
    /// hosted services: its migrator must run first.
    /// </summary>
    public static IHostApplicationBuilder AddChatPersistence(this IHostApplicationBuilder builder)
    {
        var (name, connectionString) = Resolve(builder.Configuration);
        var services = builder.Services;
        services.AddOptions<StoreOptions>()
            .BindConfiguration(StoreOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<StoreMetrics>();

        var serverVersion = builder.Configuration.GetSection(StoreOptions.Section).Get<StoreOptions>()?.MySqlServerVersion
            ?? new StoreOptions().MySqlServerVersion;
        services.AddSingleton<DatabaseProvider>(sp => name switch
        {
            StoreProviderName.MySql => new MySqlProvider(WithPoolDefault(connectionString), serverVersion),
            StoreProviderName.Postgres => new PostgresProvider(WithPoolDefault(connectionString), sp.GetService<ILoggerFactory>()),
            _ => new SqliteProvider(connectionString),
        });
        switch (name)
        {
            case StoreProviderName.MySql:
                AddDbContext<MySqlChatDbContext>(services);
                break;
            case StoreProviderName.Postgres:
                AddDbContext<PostgresChatDbContext>(services);
                break;
            default:
                AddDbContext<SqliteChatDbContext>(services);
                break;
        }

        services.AddScoped<IChatStore, ChatStore>();
        services.AddScoped<ISessionTokenStore, SessionTokenStore>();
        services.AddScoped<IAdminStore, AdminStore>();
        services.AddScoped<IFileCatalog, FileCatalog>();
        services.AddScoped<IPeopleStore, PeopleStore>();

        // Hosted services start in registration order (and stop in reverse): schema first, then the writers.
        services.AddHostedService<DatabaseMigrator>();
        services.AddSingleton<MessageWriter>();
        services.AddSingleton<IMessageWriter>(sp => sp.GetRequiredService<MessageWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<MessageWriter>());
        services.AddSingleton<CursorWriter>();
        services.AddSingleton<ICursorWriter>(sp => sp.GetRequiredService<CursorWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<CursorWriter>());
        services.AddSingleton<ReadMarkWriter>();
        services.AddSingleton<IReadMarkWriter>(sp => sp.GetRequiredService<ReadMarkWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<ReadMarkWriter>());

        return builder;
    }

    /// <summary><c>mysql</c>, <c>postgres</c> or <c>sqlite</c>: the engine <see cref="AddChatPersistence"/> uses with this configuration.</summary>
    public static string ProviderName(IConfiguration configuration) =>
        Resolve(configuration).Name.ToString().ToLowerInvariant();

    /// <summary>The engine and connection string as configured, or the reason they cannot be used.</summary>
    private static (StoreProviderName Name, string ConnectionString) Resolve(IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Chat");
        var given = configuration.GetSection(StoreOptions.Section).Get<StoreOptions>()?.Provider;
        var name = given ?? (string.IsNullOrWhiteSpace(connectionString)
            ? StoreProviderName.Sqlite
            : throw new InvalidOperationException(
                "A database connection string is configured (ConnectionStrings:Chat) but not which engine it is for: set " +
                "Chat:Store:Provider (environment variable Chat__Store__Provider) to mysql, postgres or sqlite."));

        if (name == StoreProviderName.Sqlite && !string.IsNullOrWhiteSpace(configuration.GetConnectionString("Redis")))
        {
            throw new InvalidOperationException(
                "SQLite cannot be shared by replicas, but Redis is configured (ConnectionStrings:Redis), which makes this " +
                "replica part of a cluster. Use Chat:Store:Provider=mysql or postgres with a shared database, or remove " +
                "the Redis connection string to run a single node.");
        }

        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = name == StoreProviderName.Sqlite
                ? SqliteProvider.DefaultConnectionString
                : throw new InvalidOperationException(
                    $"Chat:Store:Provider is {name.ToString().ToLowerInvariant()} but no database is configured: set the connection " +
                    "string 'Chat' (ConnectionStrings:Chat, or the environment variable ConnectionStrings__Chat), e.g. " +
                    (name == StoreProviderName.MySql
                        ? "\"Server=127.0.0.1;Port=3306;Database=chat;User ID=chat;Password=...\"."
                        : "\"Host=localhost;Database=chat;Username=chat;Password=...\"."));
        }

        return (name, connectionString);
    }

    /// <summary><see cref="ChatDbContext"/> as the engine's own derived context (its migrations are that type's), pooled.</summary>
    private static void AddDbContext<TContext>(IServiceCollection services)
        where TContext : ChatDbContext =>
        services.AddDbContextPool<ChatDbContext, TContext>((sp, options) => sp.GetRequiredService<DatabaseProvider>().Configure(options));

    /// <summary>
    /// Npgsql's and MySqlConnector's own default (100 per replica) lets two replicas use up the server's connection
    /// limit (PostgreSQL 100, MariaDB 151) under a burst of logins, and the database then refuses everyone. A
    /// connection string that names a pool size keeps it.
    /// </summary>
    private static string WithPoolDefault(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.Keys.Cast<string>().Any(k => k.Replace(" ", "", StringComparison.Ordinal).Contains("poolsize", StringComparison.OrdinalIgnoreCase)))
        {
            return connectionString;
        }

        given["Maximum Pool Size"] = DefaultMaxPoolSize;
        return given.ConnectionString;
    }
}
