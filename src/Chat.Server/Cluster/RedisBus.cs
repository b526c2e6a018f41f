using System.Diagnostics;
using Chat.Server.Connections;
using Chat.Server.Hosting;
using Chat.Server.Routing;
using Chat.Server.Telemetry;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Server.Cluster;

/// <summary>
/// Redis pub/sub between replicas. <c>chat:user:{id}</c> is subscribed by the replica holding the user,
/// <c>chat:group:{id}</c> by every replica holding a member (the session store counts them). The subscriber only
/// hands frames to bounded per-connection queues: it never waits on a client. StackExchange.Redis resubscribes
/// everything by itself when the connection comes back. Each payload carries its publish time and the publishing
/// span, so the delivery on the other replica is measured and traced as part of the sender's trace.
/// </summary>
public sealed class RedisBus(
    ConnectionMultiplexer redis,
    IServiceProvider services,
    ChatMetrics metrics,
    TimeProvider time,
    IOptions<ChatServerOptions> options,
    ILogger<RedisBus> log) : IClusterBus
{
    private readonly Guid _origin = Guid.NewGuid();
    private Router? _router;

    private ISubscriber Subscriber => redis.GetSubscriber();

    private Router Router => _router ??= services.GetRequiredService<Router>();

    public static RedisChannel UserChannel(int userId) => RedisChannel.Literal("chat:user:" + userId);

    public static RedisChannel GroupChannel(int groupId) => RedisChannel.Literal("chat:group:" + groupId);

    public Task SubscribeUserAsync(int userId) => Subscriber.SubscribeAsync(UserChannel(userId), OnMessage);

    public Task UnsubscribeUserAsync(int userId) => UnsubscribeAsync(UserChannel(userId));

    public Task SubscribeGroupAsync(int groupId) => Subscriber.SubscribeAsync(GroupChannel(groupId), OnMessage);

    public Task UnsubscribeGroupAsync(int groupId) => UnsubscribeAsync(GroupChannel(groupId));

    public void Publish(Delivery delivery)
    {
        var channel = delivery.IsGroup ? GroupChannel(delivery.TargetId) : UserChannel(delivery.TargetId);
        var started = Stopwatch.GetTimestamp();
        using var activity = ChatTelemetry.Source.StartActivity(ChatTelemetry.BusPublish, ActivityKind.Producer);
        if (activity is not null)
        {
            Tag(activity, delivery);
        }

        try
        {
            var envelope = new BusEnvelope(_origin, time.GetUtcNow().UtcTicks, activity?.Context ?? default);
            Subscriber.Publish(channel, BusPayload.Encode(delivery, envelope), CommandFlags.FireAndForget);
            metrics.Published(Stopwatch.GetElapsedTime(started));
        }
        catch (RedisException ex)
        {
            // Stored already: the recipient gets it at its next login.
            ClusterLog.PublishFailed(log, ex, delivery.ConversationId, delivery.Seq);
        }
    }

    private async Task UnsubscribeAsync(RedisChannel channel)
    {
        try
        {
            await Subscriber.UnsubscribeAsync(channel, OnMessage);
        }
        catch (RedisException ex)
        {
            // Redis is away; the subscription dies with the connection or is dropped when it comes back.
            ClusterLog.UnsubscribeFailed(log, ex, channel.ToString());
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue value)
    {
        try
        {
            if (!BusPayload.TryDecode((byte[]?)value ?? [], out var delivery, out var envelope))
            {
                ClusterLog.UnknownPayload(log, channel.ToString());
                return;
            }

            // A replica delivers its own group messages locally before publishing them.
            if (delivery.IsGroup && envelope.Origin == _origin)
            {
                return;
            }

            if (envelope.PublishedAtTicks > 0)
            {
                metrics.DeliveredFromBus((time.GetUtcNow().UtcTicks - envelope.PublishedAtTicks) / (double)TimeSpan.TicksPerMillisecond);
            }

            using var activity = ChatTelemetry.Source.StartActivity(ChatTelemetry.BusDeliver, ActivityKind.Consumer, envelope.Trace);
            if (activity is not null)
            {
                Tag(activity, delivery);
            }

            Router.DeliverFromBus(delivery);
        }
        catch (Exception ex)
        {
            ClusterLog.DeliveryFailed(log, ex, channel.ToString());
        }
    }

    private void Tag(Activity activity, Delivery delivery) => activity
        .SetTag(ChatTelemetry.ReplicaTag, options.Value.ReplicaId)
        .SetTag(ChatTelemetry.UserTag, delivery.SenderId)
        .SetTag(ChatTelemetry.TargetTag, delivery.TargetId)
        .SetTag(ChatTelemetry.ConversationTag, delivery.ConversationId)
        .SetTag(ChatTelemetry.SeqTag, delivery.Seq);
}
