using Chat.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Chat.Persistence;

public static class PersistenceExtensions
{
    /// <summary>
    /// The store behind <see cref="IChatStore"/>, <see cref="IMessageWriter"/> and <see cref="ICursorWriter"/>,
    /// on the database named by the connection string <c>Chat</c>. Call it before registering other hosted
    /// services: its migrator must run first.
    /// </summary>
    /// <summary>Connections one replica opens at most when its connection string does not say.</summary>
    public const int DefaultMaxPoolSize = 20;

    public static IHostApplicationBuilder AddChatPersistence(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Chat");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "No database configured: set the connection string 'Chat' (ConnectionStrings:Chat, or the " +
                "environment variable ConnectionStrings__Chat), e.g. \"Host=localhost;Database=chat;Username=chat;Password=...\".");
        }

        var services = builder.Services;
        services.AddOptions<StoreOptions>()
            .BindConfiguration(StoreOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<StoreMetrics>();

        services.AddSingleton(sp => new NpgsqlDataSourceBuilder(WithPoolDefault(connectionString))
            .UseLoggerFactory(sp.GetService<ILoggerFactory>())
            .Build());
        services.AddDbContextPool<ChatDbContext>((sp, options) =>
            options.UseChatDatabase(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddScoped<IChatStore, ChatStore>();
        services.AddScoped<ISessionTokenStore, SessionTokenStore>();

        // Hosted services start in registration order (and stop in reverse): schema first, then the writers.
        services.AddHostedService<DatabaseMigrator>();
        services.AddSingleton<MessageWriter>();
        services.AddSingleton<IMessageWriter>(sp => sp.GetRequiredService<MessageWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<MessageWriter>());
        services.AddSingleton<CursorWriter>();
        services.AddSingleton<ICursorWriter>(sp => sp.GetRequiredService<CursorWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<CursorWriter>());

        return builder;
    }

    /// <summary>
    /// Npgsql's own default (100 per replica) lets two replicas use up PostgreSQL's default max_connections (100)
    /// under a burst of logins, and the database then refuses everyone. A connection string that names a pool size
    /// keeps it.
    /// </summary>
    private static string WithPoolDefault(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.ContainsKey("Maximum Pool Size") || given.ContainsKey("Max Pool Size") || given.ContainsKey("MaxPoolSize"))
        {
            return connectionString;
        }

        return new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = DefaultMaxPoolSize }.ConnectionString;
    }
}
