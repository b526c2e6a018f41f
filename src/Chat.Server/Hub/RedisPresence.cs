using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Server.Hub;

/// <summary>
/// Presence in Redis: <c>chat:presence:{id}</c> holds the replica id with a TTL. A login claims it with SET NX, so
/// a second login anywhere in the cluster is refused; the owning replica refreshes its users' keys (and recreates
/// them if Redis lost them); a dead replica's users are free once the TTL runs out. A multi-key command or script covers
/// one hash slot on a Redis Cluster (<see cref="RedisTopology.Batches"/>).
/// </summary>
public sealed class RedisPresence(ConnectionMultiplexer redis, RedisTopology topology, IOptions<ChatServerOptions> options, IOptions<PresenceOptions> presence, ILogger<RedisPresence> log)
{
    private const string ReleaseScript = """
        if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
        return 0
        """;

    private const string RefreshScript = """
        for i, key in ipairs(KEYS) do
          local owner = redis.call('get', key)
          if owner == false or owner == ARGV[1] then redis.call('set', key, ARGV[1], 'PX', ARGV[2]) end
        end
        return #KEYS
        """;

    private const int Batch = 1000;

    private IDatabase Db => redis.GetDatabase();

    private string ReplicaId => options.Value.ReplicaId;

    private TimeSpan Ttl => presence.Value.PresenceTtl;

    public static RedisKey Key(int userId) => "chat:presence:" + userId;

    public Task<bool> TryClaimAsync(int userId) => Db.StringSetAsync(Key(userId), ReplicaId, Ttl, When.NotExists);

    public async Task ReleaseAsync(int userId)
    {
        try
        {
            await Db.ScriptEvaluateAsync(ReleaseScript, [Key(userId)], [ReplicaId]);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The key runs out with its TTL.
            HubLog.ReleaseFailed(log, ex, userId);
        }
    }

    public async Task<IReadOnlySet<int>> OnlineAsync(IReadOnlyCollection<int> userIds)
    {
        var batches = await Task.WhenAll(topology.Batches(userIds, Key, Batch).Select(async ids => (Ids: ids, Values: await Db.StringGetAsync([.. ids.Select(Key)]))));
        return batches.SelectMany(batch => batch.Ids.Where((_, i) => !batch.Values[i].IsNull)).ToHashSet();
    }

    /// <summary>Renews these users' claims (the ones this replica holds, or that Redis lost).</summary>
    public async Task RefreshAsync(IEnumerable<int> userIds)
    {
        var ttl = (long)Ttl.TotalMilliseconds;
        await Task.WhenAll(topology.Batches(userIds, Key, Batch).Select(ids => Db.ScriptEvaluateAsync(RefreshScript, [.. ids.Select(Key)], [ReplicaId, ttl])));
    }
}
