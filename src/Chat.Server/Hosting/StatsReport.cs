using Chat.Domain;
using Chat.Server.Hub;
using Chat.Server.Telemetry;
using Chat.Server.Transport;
using Microsoft.Extensions.Options;

namespace Chat.Server.Hosting;

/// <summary>What <c>GET /stats</c> shows: this replica's figures right now.</summary>
public sealed record StatsReport(
    string Replica,
    long Connections,
    int UsersOnline,
    double MessagesPerSecond,
    int WindowSeconds,
    int WriterQueue,
    RedisStats Redis);

/// <param name="State"><c>connected</c>, <c>disconnected</c> or <c>not configured</c>.</param>
/// <param name="Subscriptions">Channels this replica subscribes to: one per local user, one per group with a local member.</param>
public sealed record RedisStats(string State, int Subscriptions);

/// <summary>Takes the <see cref="StatsReport"/> snapshot; cheap enough to poll every second.</summary>
public sealed class StatsReporter(
    IOptions<ChatServerOptions> options,
    ChatMetrics metrics,
    ConnectionRegistry connections,
    ChatHub hub,
    IMessageWriter writer)
{
    public StatsReport Snapshot() =>
        new(
            options.Value.ReplicaId,
            connections.Count,
            hub.UserCount,
            Math.Round(metrics.MessageRate.PerSecond(), 1),
            metrics.MessageRate.Seconds,
            writer.QueueDepth,
            new RedisStats(hub.BusState, hub.Subscriptions));
}
