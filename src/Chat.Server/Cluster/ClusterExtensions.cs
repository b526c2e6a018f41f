using Chat.Domain;
using Chat.Server.Connections;
using Chat.Server.Hosting;
using Chat.Server.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Chat.Server.Cluster;

public static class ClusterExtensions
{
    /// <summary>
    /// With <c>ConnectionStrings:Redis</c>: Redis bus and presence, and its health check in <c>/readyz</c>. Without it: a single
    /// node with in-process presence and no bus.
    /// </summary>
    public static IServiceCollection AddChatCluster(this IServiceCollection services, string? redisConnectionString)
    {
        if (string.IsNullOrWhiteSpace(redisConnectionString))
        {
            services.AddSingleton<IPresence, InProcessPresence>();
            services.AddSingleton<IClusterBus, LocalBus>();
            return services;
        }

        services.AddSingleton(sp => Connect(redisConnectionString, sp.GetRequiredService<ILogger<RedisBus>>()));
        services.AddSingleton<IConnectionMultiplexer>(sp => sp.GetRequiredService<ConnectionMultiplexer>()); // for the Redis instrumentation
        services.AddSingleton<IClusterBus, RedisBus>();
        services.AddSingleton<RedisPresence>();
        services.AddSingleton<IPresence>(sp => sp.GetRequiredService<RedisPresence>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisPresence>());
        services.AddHealthChecks().AddCheck<RedisHealthCheck>(RedisHealthCheck.Name, tags: [ServiceDefaults.ReadyTag]);
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
        // While disconnected, commands fail at once (as in 1.x) instead of waiting in a backlog until a timeout:
        // a login or a send is answered with an error now, and a publish is never replayed late.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        var redis = ConnectionMultiplexer.Connect(options);
        redis.ConnectionFailed += (_, e) => ClusterLog.ConnectionLost(log, e.FailureType.ToString());
        redis.ConnectionRestored += (_, _) => ClusterLog.ConnectionRestored(log);
        return redis;
    }
}

/// <summary>Redis answers on both the command and the subscription connection.</summary>
public sealed class RedisHealthCheck(ConnectionMultiplexer redis) : IHealthCheck
{
    public const string Name = "redis";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!redis.IsConnected)
        {
            return HealthCheckResult.Unhealthy("not connected");
        }

        await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken);
        await redis.GetSubscriber().PingAsync().WaitAsync(cancellationToken);
        return HealthCheckResult.Healthy();
    }
}
