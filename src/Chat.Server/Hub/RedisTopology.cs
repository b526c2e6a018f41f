using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Server.Hub;

/// <summary>
/// Whether <c>ConnectionStrings:Redis</c> names one Redis or a Redis Cluster, as the servers themselves report it.
/// On a cluster, channels are sharded (SSUBSCRIBE/SPUBLISH to the master of the channel's slot) and a command or a
/// script touches the keys of one hash slot only. Known once a server has answered; until then nothing reaches Redis
/// anyway (a login's claim fails first), so the answer is fixed before the first subscription or publish.
/// Every key and channel name is made here, behind <see cref="RedisOptions.RedisPrefix"/>.
/// </summary>
public sealed class RedisTopology(ConnectionMultiplexer redis, IOptions<RedisOptions> options)
{
    private readonly string _prefix = options.Value.RedisPrefix;
    private const int Unknown = 0, Standalone = 1, Cluster = 2;
    private int _mode;

    public bool IsCluster
    {
        get
        {
            if (Volatile.Read(ref _mode) == Unknown && redis.GetServers().FirstOrDefault(s => s.IsConnected) is { } server)
            {
                Volatile.Write(ref _mode, server.ServerType == ServerType.Cluster ? Cluster : Standalone);
            }

            return Volatile.Read(ref _mode) == Cluster;
        }
    }

    /// <summary>The key <paramref name="name"/>, behind the prefix.</summary>
    public RedisKey Key(string name) => _prefix + name;

    /// <summary>The channel <paramref name="name"/>, behind the prefix: sharded on a cluster, a plain channel on one Redis.</summary>
    public RedisChannel Channel(string name) => IsCluster ? RedisChannel.Sharded(_prefix + name) : RedisChannel.Literal(_prefix + name);

    /// <summary>
    /// <paramref name="items"/> in batches of at most <paramref name="size"/>, one hash slot per batch on a cluster (a
    /// multi-key command there may not cross slots); the batches go out together, pipelined, not one round trip each.
    /// </summary>
    public IEnumerable<T[]> Batches<T>(IEnumerable<T> items, Func<T, RedisKey> key, int size) =>
        IsCluster
            ? items.GroupBy(item => redis.HashSlot(key(item))).SelectMany(slot => slot.Chunk(size))
            : items.Chunk(size);
}
