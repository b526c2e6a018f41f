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

        services.AddSingleton(sp => new NpgsqlDataSourceBuilder(connectionString)
            .UseLoggerFactory(sp.GetService<ILoggerFactory>())
            .Build());
        services.AddDbContextPool<ChatDbContext>((sp, options) =>
            options.UseChatDatabase(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddScoped<IChatStore, ChatStore>();

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
}
