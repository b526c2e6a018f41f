using Chat.Server.Connections;
using Chat.Server.Routing;
using StackExchange.Redis;

namespace Chat.Server.Cluster;

/// <summary>
/// Redis pub/sub between replicas. <c>chat:user:{id}</c> is subscribed by the replica holding the user,
/// <c>chat:group:{id}</c> by every replica holding a member (the session store counts them). The subscriber only
/// hands frames to bounded per-connection queues: it never waits on a client. StackExchange.Redis resubscribes
/// everything by itself when the connection comes back.
/// </summary>
public sealed class RedisBus(ConnectionMultiplexer redis, IServiceProvider services, ILogger<RedisBus> log) : IClusterBus
{
    private readonly Guid _origin = Guid.NewGuid();
    private Router? _router;

    private ISubscriber Subscriber => redis.GetSubscriber();

    private Router Router => _router ??= services.GetRequiredService<Router>();

    public static RedisChannel UserChannel(int userId) => "chat:user:" + userId;

    public static RedisChannel GroupChannel(int groupId) => "chat:group:" + groupId;

    public Task SubscribeUserAsync(int userId) => Subscriber.SubscribeAsync(UserChannel(userId), OnMessage);

    public Task UnsubscribeUserAsync(int userId) => UnsubscribeAsync(UserChannel(userId));

    public Task SubscribeGroupAsync(int groupId) => Subscriber.SubscribeAsync(GroupChannel(groupId), OnMessage);

    public Task UnsubscribeGroupAsync(int groupId) => UnsubscribeAsync(GroupChannel(groupId));

    public void Publish(Delivery delivery)
    {
        var channel = delivery.IsGroup ? GroupChannel(delivery.TargetId) : UserChannel(delivery.TargetId);
        try
        {
            Subscriber.Publish(channel, BusPayload.Encode(delivery, _origin), CommandFlags.FireAndForget);
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
            if (!BusPayload.TryDecode(value, out var delivery, out var origin))
            {
                ClusterLog.UnknownPayload(log, channel.ToString());
                return;
            }

            // A replica delivers its own group messages locally before publishing them.
            if (!(delivery.IsGroup && origin == _origin))
            {
                Router.DeliverFromBus(delivery);
            }
        }
        catch (Exception ex)
        {
            ClusterLog.DeliveryFailed(log, ex, channel.ToString());
        }
    }
}
