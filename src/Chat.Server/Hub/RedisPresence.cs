using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Server.Hub;

/// <summary>
/// Presence in Redis. <c>chat:presence:{id}</c> holds the claiming replica's instance (its id and a random suffix
/// chosen at start) with a TTL; a login claims it with SET NX, so a second login anywhere in the cluster is refused;
/// the owning replica refreshes its users' keys (and recreates them if Redis lost them). Each running replica also
/// keeps <c>chat:alive:{instance}</c> with a short TTL (<see cref="PresenceOptions.LivenessTtl"/>): a claim whose
/// owner's liveness key is gone is void, so a killed replica's users log in again within seconds. A restarted replica
/// is a new instance: it never mistakes its predecessor's claims for its own.
/// </summary>
/// <remarks>
/// Redis Cluster: a multi-key command or script covers one hash slot (<see cref="RedisTopology.Batches"/>); no script touches more than one key of different users or replicas — a claim and its owner's
/// liveness key live in different hash slots, so a takeover is two steps: read the owner and check its liveness key,
/// then compare-and-set the claim against that same owner (<see cref="TakeOverScript"/>, one key). A dead owner never
/// comes back under the same instance, so the check cannot go stale between the steps.
/// </remarks>
public sealed class RedisPresence(ConnectionMultiplexer redis, RedisTopology topology, IOptions<ChatServerOptions> options, IOptions<PresenceOptions> presence, ILogger<RedisPresence> log)
{
    private const string ReleaseScript = """
        if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
        return 0
        """;

    private const string TakeOverScript = """
        if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
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
    private const int ClaimAttempts = 3;

    private IDatabase Db => redis.GetDatabase();

    private TimeSpan Ttl => presence.Value.PresenceTtl;

    /// <summary>This process's name in claims: the replica id and a suffix no earlier or later run shares.</summary>
    public string Instance { get; } = $"{options.Value.ReplicaId}#{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    public static RedisKey Key(int userId) => "chat:presence:" + userId;

    public static RedisKey LivenessKey(string instance) => "chat:alive:" + instance;

    /// <summary>Claims the user for this replica, unless a live replica (this one included) holds the claim.</summary>
    public async Task<bool> TryClaimAsync(int userId)
    {
        var key = Key(userId);
        for (var attempt = 0; attempt < ClaimAttempts; attempt++)
        {
            if (await Db.StringSetAsync(key, Instance, Ttl, When.NotExists))
            {
                return true;
            }

            var owner = (string?)await Db.StringGetAsync(key);
            if (owner is null)
            {
                continue; // released or expired between the two commands
            }

            if (owner == Instance || await IsAliveAsync(owner))
            {
                return false;
            }

            if ((int)await Db.ScriptEvaluateAsync(TakeOverScript, [key], [owner, Instance, (long)Ttl.TotalMilliseconds]) == 1)
            {
                return true;
            }
        }

        return false;
    }

    public async Task ReleaseAsync(int userId)
    {
        try
        {
            await Db.ScriptEvaluateAsync(ReleaseScript, [Key(userId)], [Instance]);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The key runs out with its TTL, or goes void with this replica's liveness.
            HubLog.ReleaseFailed(log, ex, userId);
        }
    }

    /// <summary>Which of these users hold a claim of a live replica.</summary>
    public async Task<IReadOnlySet<int>> OnlineAsync(IReadOnlyCollection<int> userIds)
    {
        var batches = await Task.WhenAll(topology.Batches(userIds, Key, Batch).Select(async ids => (Ids: ids, Owners: await Db.StringGetAsync([.. ids.Select(Key)]))));
        var claims = batches.SelectMany(batch => batch.Ids.Select((id, i) => (Id: id, Owner: batch.Owners[i]))).Where(c => !c.Owner.IsNull).ToList();
        var alive = await AliveAsync(claims.Select(c => (string)c.Owner!).ToHashSet());
        return claims.Where(c => alive.Contains((string)c.Owner!)).Select(c => c.Id).ToHashSet();
    }

    /// <summary>Renews these users' claims (the ones this replica holds, or that Redis lost).</summary>
    public async Task RefreshAsync(IEnumerable<int> userIds)
    {
        var ttl = (long)Ttl.TotalMilliseconds;
        await Task.WhenAll(topology.Batches(userIds, Key, Batch).Select(ids => Db.ScriptEvaluateAsync(RefreshScript, [.. ids.Select(Key)], [Instance, ttl])));
    }

    /// <summary>Says this replica is alive for another <see cref="PresenceOptions.LivenessTtl"/>.</summary>
    public Task KeepAliveAsync() => Db.StringSetAsync(LivenessKey(Instance), 1, presence.Value.LivenessTtl);

    /// <summary>A clean stop: every claim this replica still holds is void at once.</summary>
    public Task EndLivenessAsync() => Db.KeyDeleteAsync(LivenessKey(Instance));

    private async Task<bool> IsAliveAsync(string owner) => await Db.KeyExistsAsync(LivenessKey(owner));

    /// <summary>The live ones of these instances: one EXISTS each, pipelined (their keys may sit in different slots).</summary>
    private async Task<HashSet<string>> AliveAsync(HashSet<string> instances)
    {
        instances.Remove(Instance);
        var checks = instances.Select(i => (Instance: i, Alive: Db.KeyExistsAsync(LivenessKey(i)))).ToList();
        await Task.WhenAll(checks.Select(c => c.Alive));
        var alive = checks.Where(c => c.Alive.Result).Select(c => c.Instance).ToHashSet();
        alive.Add(Instance);
        return alive;
    }
}
