using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace Chat.Server.Hub;

public static class HubExtensions
{
    /// <summary>
    /// With <c>ConnectionStrings:Redis</c>: the Redis hub (bus and presence), and its health check in <c>/readyz</c>. Without it: a
    /// single node's <see cref="LocalHub"/>.
    /// </summary>
    public static IServiceCollection AddChatHub(this IServiceCollection services, string? redisConnectionString)
    {
        services.AddChatOptions<RedisOptions>();
        if (string.IsNullOrWhiteSpace(redisConnectionString))
        {
            services.AddSingleton<ChatHub, LocalHub>();
            return services;
        }

        services.AddSingleton(sp => Connect(redisConnectionString, sp.GetRequiredService<ILogger<RedisHub>>()));
        services.AddSingleton<IConnectionMultiplexer>(sp => sp.GetRequiredService<ConnectionMultiplexer>()); // for the Redis instrumentation
        services.AddSingleton<RedisTopology>();
        services.AddSingleton<RedisPresence>();
        services.AddSingleton<RedisHub>();
        services.AddSingleton<ChatHub>(sp => sp.GetRequiredService<RedisHub>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisHub>());
        services.AddHealthChecks().AddCheck<RedisHealthCheck>(RedisHealthCheck.Name, tags: [HealthTags.Ready]);
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddRedisInstrumentation()); // when traces are exported
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
        redis.ConnectionFailed += (_, e) => HubLog.ConnectionLost(log, e.FailureType.ToString());
        redis.ConnectionRestored += (_, _) => HubLog.ConnectionRestored(log);
        return redis;
    }
}

/// <summary>Redis answers on both the command and the subscription connection; a Redis Cluster serves every slot.</summary>
public sealed class RedisHealthCheck(ConnectionMultiplexer redis, RedisTopology topology) : IHealthCheck
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
        if (topology.IsCluster && !ServesEverySlot())
        {
            // A replica node can still answer PING while no master of ours serves some slots: their channels are down.
            return HealthCheckResult.Unhealthy("a slot has no reachable master");
        }

        return HealthCheckResult.Healthy();
    }

    /// <summary>Every hash slot belongs to a master this replica is connected to (as a master we reach sees the cluster).</summary>
    private bool ServesEverySlot()
    {
        var connected = redis.GetServers().Where(s => s.IsConnected).ToList();
        var view = (connected.FirstOrDefault(s => !s.IsReplica) ?? connected.FirstOrDefault())?.ClusterConfiguration;
        var served = view?.Nodes
            .Where(node => !node.IsReplica && node.EndPoint is not null && redis.GetServer(node.EndPoint).IsConnected)
            .Sum(node => node.Slots.Sum(range => range.To - range.From + 1));
        return served == 16384;
    }
}
