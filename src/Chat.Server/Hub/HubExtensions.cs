using Chat.Server.Hosting;
using StackExchange.Redis;

namespace Chat.Server.Hub;

public static class HubExtensions
{
    /// <summary>
    /// With <c>ConnectionStrings:Redis</c>: the Redis hub (bus and presence), and Redis in <c>/readyz</c>. Without it: a
    /// single node's <see cref="LocalHub"/>.
    /// </summary>
    public static IServiceCollection AddChatHub(this IServiceCollection services, string? redisConnectionString)
    {
        services.AddOptions<PresenceOptions>()
            .BindConfiguration(ChatServerOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (string.IsNullOrWhiteSpace(redisConnectionString))
        {
            services.AddSingleton<ChatHub, LocalHub>();
            return services;
        }

        services.AddSingleton(sp => Connect(redisConnectionString, sp.GetRequiredService<ILogger<RedisHub>>()));
        services.AddSingleton<RedisPresence>();
        services.AddSingleton<RedisHub>();
        services.AddSingleton<ChatHub>(sp => sp.GetRequiredService<RedisHub>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisHub>());
        services.AddScoped<IReadinessCheck, RedisCheck>();
        return services;
    }

    private static ConnectionMultiplexer Connect(string connectionString, ILogger log)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false; // start even while Redis is away, and keep reconnecting
        options.ConnectRetry = 3;
        options.ConnectTimeout = 2000;
        options.SyncTimeout = 2000;
        options.KeepAlive = 5;
        var redis = ConnectionMultiplexer.Connect(options);
        redis.ConnectionFailed += (_, e) => HubLog.ConnectionLost(log, e.FailureType.ToString());
        redis.ConnectionRestored += (_, _) => HubLog.ConnectionRestored(log);
        return redis;
    }
}

/// <summary>Redis answers on both the command and the subscription connection.</summary>
public sealed class RedisCheck(ConnectionMultiplexer redis) : IReadinessCheck
{
    public string Name => "redis";

    public async Task<string?> ProblemAsync(CancellationToken ct)
    {
        if (!redis.IsConnected)
        {
            return "not connected";
        }

        await redis.GetDatabase().PingAsync();
        await redis.GetSubscriber().PingAsync();
        return null;
    }
}
