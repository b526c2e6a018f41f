using System.Security.Cryptography;
using Chat.Server.Sessions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Server.Hub;

/// <summary>
/// Presence in Redis (names as with the default <see cref="RedisOptions.RedisPrefix"/>). <c>chat:presence:{id}</c> is a hash of the user's sessions: session id → the claiming replica's
/// instance (its id and a random suffix chosen at start), with a TTL each holder refreshes (recreating its fields if
/// Redis lost them). A login claims with one script (<see cref="ClaimScript"/>) that applies the policy atomically:
/// <c>reject</c> refuses while a live session exists anywhere, <c>allow</c> adds one, <c>replace</c> adds one and says the
/// older ones are to be closed (they remove their own fields as they close). Each running replica keeps
/// <c>chat:alive:{instance}</c> with a short TTL (<see cref="RedisOptions.LivenessTtl"/>): a session of a replica
/// whose liveness key is gone is void, so a killed replica's users log in again within seconds. A restarted replica is
/// a new instance: it never mistakes its predecessor's sessions for its own.
/// <para>Who noticed a death: every replica lists itself in <c>chat:replicas</c> (a sorted set, scored by when its
/// liveness runs out) and its users in <c>chat:replica-users:{instance}</c>. A survivor that finds an entry past its time
/// and its liveness key gone removes the entry (ZREM: exactly one survivor wins) and sweeps the dead instance's sessions
/// from its users' hashes: those left with none went offline (<see cref="ReapAsync"/>).</para>
/// </summary>
/// <remarks>
/// Redis Cluster: a multi-key command or script covers one hash slot (<see cref="RedisTopology.Batches"/>); no script
/// touches keys of different users or replicas — a session and its owner's liveness key live in different hash
/// slots, so a claim over a dead owner is two steps: the script names the owners it cannot judge, they are checked
/// (EXISTS), and the script runs again with the dead ones listed (their sessions are removed) and the live ones
/// counted. A dead owner never comes back under the same instance, so the check cannot go stale between the steps.
/// A key in the earlier form (a string holding one owner) is read as a hash with that one session.
/// </remarks>
public sealed class RedisPresence(ConnectionMultiplexer redis, RedisTopology topology, IOptions<ChatServerOptions> options, IOptions<RedisOptions> presence, ILogger<RedisPresence> log)
{
    /// <summary>
    /// KEYS[1] the user's hash; ARGV: session, instance, TTL (ms), policy, n, then n dead instances, then live ones.
    /// Returns {-1, owners…} when owners are neither listed live nor dead; else {0} refused, {1} first, {2} another,
    /// {3} replaced.
    /// </summary>
    private const string ClaimScript = """
        if redis.call('type', KEYS[1]).ok == 'string' then
          local owner = redis.call('get', KEYS[1])
          local ttl = redis.call('pttl', KEYS[1])
          redis.call('del', KEYS[1])
          redis.call('hset', KEYS[1], 'legacy', owner)
          if ttl > 0 then redis.call('pexpire', KEYS[1], ttl) end
        end
        local dead, live = {}, {}
        local n = tonumber(ARGV[5])
        for i = 6, 5 + n do dead[ARGV[i]] = true end
        for i = 6 + n, #ARGV do live[ARGV[i]] = true end
        live[ARGV[2]] = true
        local fields = redis.call('hgetall', KEYS[1])
        local others, unknown = 0, {-1}
        for i = 1, #fields, 2 do
          local owner = fields[i + 1]
          if dead[owner] then redis.call('hdel', KEYS[1], fields[i])
          elseif live[owner] then others = others + 1
          else unknown[#unknown + 1] = owner end
        end
        if #unknown > 1 then return unknown end
        if others > 0 and ARGV[4] == 'Reject' then return {0} end
        redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
        redis.call('pexpire', KEYS[1], ARGV[3])
        if others == 0 then return {1} end
        if ARGV[4] == 'Replace' then return {3} end
        return {2}
        """;

    /// <summary>Removes the session: {1 if it was there, 1 when the user has no session left (Redis drops an empty hash)}.</summary>
    private const string ReleaseScript = """
        local removed = redis.call('hdel', KEYS[1], ARGV[1])
        return {removed, 1 - redis.call('exists', KEYS[1])}
        """;

    /// <summary>Per key: the session (ARGV[i + 2]) of this instance (ARGV[1]) is there again, and the TTL renewed.</summary>
    private const string RefreshScript = """
        for i, key in ipairs(KEYS) do
          redis.call('hset', key, ARGV[i + 2], ARGV[1])
          redis.call('pexpire', key, ARGV[2])
        end
        return #KEYS
        """;

    /// <summary>Per key: every owner (a string key in the earlier form has one).</summary>
    private const string OwnersScript = """
        local owners = {}
        for i, key in ipairs(KEYS) do
          local kind = redis.call('type', key).ok
          if kind == 'hash' then owners[i] = redis.call('hvals', key)
          elseif kind == 'string' then owners[i] = {redis.call('get', key)}
          else owners[i] = {} end
        end
        return owners
        """;

    /// <summary>Per key: removes the sessions of dead instance ARGV[1]; returns the indexes of the keys left with none.</summary>
    private const string SweepScript = """
        local gone = {}
        for i, key in ipairs(KEYS) do
          if redis.call('type', key).ok == 'hash' then
            local fields = redis.call('hgetall', key)
            for j = 1, #fields, 2 do
              if fields[j + 1] == ARGV[1] then redis.call('hdel', key, fields[j]) end
            end
          end
          if redis.call('exists', key) == 0 then gone[#gone + 1] = i end
        end
        return gone
        """;

    private const int Batch = 1000;
    private const int ClaimAttempts = 3;

    private IDatabase Db => redis.GetDatabase();

    private TimeSpan Ttl => presence.Value.PresenceTtl;

    /// <summary>This process's name in claims: the replica id and a suffix no earlier or later run shares.</summary>
    public string Instance { get; } = $"{options.Value.ReplicaId}#{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    /// <summary>The name of a user's hash, before <see cref="RedisOptions.RedisPrefix"/>.</summary>
    public static string KeyName(int userId) => "presence:" + userId;

    private RedisKey Replicas => topology.Key("replicas");

    private RedisKey Key(int userId) => topology.Key(KeyName(userId));

    private RedisKey LivenessKey(string instance) => topology.Key("alive:" + instance);

    private RedisKey UsersKey(string instance) => topology.Key("replica-users:" + instance);

    /// <summary>Claims the user for this session as <paramref name="policy"/> says, judging other replicas' sessions by their liveness.</summary>
    public async Task<Claim> ClaimAsync(int userId, long sessionId, LoginPolicy policy)
    {
        var key = Key(userId);
        HashSet<string> dead = [], live = [];
        for (var attempt = 0; attempt < ClaimAttempts; attempt++)
        {
            RedisValue[] args = [sessionId, Instance, (long)Ttl.TotalMilliseconds, policy.ToString(), dead.Count, .. dead.Select(d => (RedisValue)d), .. live.Select(l => (RedisValue)l)];
            var result = (RedisResult[])(await Db.ScriptEvaluateAsync(ClaimScript, [key], args))!;
            var code = (int)result[0];
            if (code >= 0)
            {
                if (code > 0)
                {
                    // Fire and forget: only a sweep after this replica's death reads it.
                    Db.SetAdd(UsersKey(Instance), userId, CommandFlags.FireAndForget);
                }

                return (Claim)code;
            }

            var owners = result[1..].Select(r => (string)r!).ToHashSet();
            var alive = await AliveAsync(owners);
            dead.UnionWith(owners.Except(alive));
            live.UnionWith(alive);
        }

        return Claim.Refused;
    }

    /// <summary>Ends one session's claim.</summary>
    /// <param name="lastHere">The user has no other session on this replica: a sweep after its death need not look at the user.</param>
    /// <returns>Whether the session's claim was there, and whether the user has no session left anywhere.</returns>
    public async Task<(bool Removed, bool Gone)> ReleaseAsync(int userId, long sessionId, bool lastHere)
    {
        try
        {
            if (lastHere)
            {
                Db.SetRemove(UsersKey(Instance), userId, CommandFlags.FireAndForget);
            }

            var result = (int[])(await Db.ScriptEvaluateAsync(ReleaseScript, [Key(userId)], [sessionId]))!;
            return (result[0] == 1, result[1] == 1);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The session runs out with the key's TTL, or goes void with this replica's liveness.
            HubLog.ReleaseFailed(log, ex, userId);
            return (false, false);
        }
    }

    /// <summary>Which of these users hold a session of a live replica.</summary>
    public async Task<IReadOnlySet<int>> OnlineAsync(IReadOnlyCollection<int> userIds)
    {
        var batches = await Task.WhenAll(topology.Batches(userIds, Key, Batch).Select(async ids =>
            (Ids: ids, Owners: (RedisResult[])(await Db.ScriptEvaluateAsync(OwnersScript, [.. ids.Select(Key)]))!)));
        var claims = batches
            .SelectMany(batch => batch.Ids.Select((id, i) => (Id: id, Owners: ((RedisResult[])batch.Owners[i]!).Select(o => (string)o!).ToList())))
            .Where(c => c.Owners.Count > 0)
            .ToList();
        var alive = await AliveAsync(claims.SelectMany(c => c.Owners).ToHashSet());
        return claims.Where(c => c.Owners.Any(alive.Contains)).Select(c => c.Id).ToHashSet();
    }

    /// <summary>
    /// Renews these sessions' claims (and recreates them if Redis lost them), and lists their users as this replica's
    /// again: a release racing a login of the same user, or a sweep after a lapse of this replica's liveness, may have
    /// taken one off the list a survivor reads when this replica dies.
    /// </summary>
    public async Task RefreshAsync(IEnumerable<(int UserId, long SessionId)> sessions)
    {
        var list = sessions.ToList();
        var ttl = (long)Ttl.TotalMilliseconds;
        var users = list.Count == 0 ? Task.CompletedTask : Db.SetAddAsync(UsersKey(Instance), [.. list.Select(s => (RedisValue)s.UserId).Distinct()]);
        await Task.WhenAll(topology.Batches(list, s => Key(s.UserId), Batch).Select(batch => Db.ScriptEvaluateAsync(
            RefreshScript, [.. batch.Select(s => Key(s.UserId))], [Instance, ttl, .. batch.Select(s => (RedisValue)s.SessionId)])).Append(users));
    }

    /// <summary>Says this replica is alive for another <see cref="RedisOptions.LivenessTtl"/>.</summary>
    public Task KeepAliveAsync()
    {
        var ttl = presence.Value.LivenessTtl;
        var until = DateTimeOffset.UtcNow.Add(ttl).ToUnixTimeMilliseconds();
        return Task.WhenAll(Db.StringSetAsync(LivenessKey(Instance), 1, ttl), Db.SortedSetAddAsync(Replicas, Instance, until));
    }

    /// <summary>A clean stop: every claim this replica still holds is void at once, and no survivor sweeps after it.</summary>
    public Task EndLivenessAsync() => Task.WhenAll(
        Db.KeyDeleteAsync(LivenessKey(Instance)), Db.SortedSetRemoveAsync(Replicas, Instance), Db.KeyDeleteAsync(UsersKey(Instance)));

    /// <summary>
    /// Sweeps after replicas that died (past their time in <c>chat:replicas</c>, liveness key gone), each by exactly one
    /// survivor: their sessions leave their users' hashes.
    /// </summary>
    /// <returns>The users who went offline with them.</returns>
    public async Task<IReadOnlyList<int>> ReapAsync()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var overdue = (await Db.SortedSetRangeByScoreAsync(Replicas, double.NegativeInfinity, now)).Select(v => (string)v!).ToHashSet();
        var alive = await AliveAsync(overdue);
        var offline = new List<int>();
        foreach (var instance in overdue.Except(alive))
        {
            if (!await Db.SortedSetRemoveAsync(Replicas, instance))
            {
                continue; // another survivor sweeps it
            }

            var users = (await Db.SetMembersAsync(UsersKey(instance))).Select(v => (int)v).ToList();
            var swept = await Task.WhenAll(topology.Batches(users, Key, Batch).Select(async ids =>
            {
                var gone = (RedisResult[])(await Db.ScriptEvaluateAsync(SweepScript, [.. ids.Select(Key)], [instance]))!;
                return gone.Select(i => ids[(int)i - 1]);
            }));
            offline.AddRange(swept.SelectMany(ids => ids));
            await Db.KeyDeleteAsync(UsersKey(instance));
        }

        return offline;
    }

    /// <summary>The live replicas, each with the number of users it holds.</summary>
    public async Task<IReadOnlyList<ReplicaUsers>> ReplicasAsync()
    {
        var listed = (await Db.SortedSetRangeByRankAsync(Replicas)).Select(v => (string)v!).ToHashSet();
        var alive = (await AliveAsync(listed)).Order(StringComparer.Ordinal).ToList();
        var counts = await Task.WhenAll(alive.Select(i => Db.SetLengthAsync(UsersKey(i))));
        return [.. alive.Zip(counts, (instance, users) => new ReplicaUsers(instance, users))];
    }

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
