using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Cluster;

/// <summary>
/// Two replicas sharing one MariaDB database (the card's MySQL) and one Redis, with a real nginx in front of both
/// (its stream server on <c>Nginx.Port</c>, its http server with <c>/ws</c> on <c>Nginx.HttpPort</c>), as in production. Each test class gets its own. <see cref="PostgresClusterFixture"/> is the same on PostgreSQL,
/// <see cref="RedisClusterFixture"/> on a Redis Cluster.
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    private RedisServer? _redis;

    public static TimeSpan PresenceTtl { get; } = TimeSpan.FromSeconds(3);

    public Replica A { get; private set; } = null!;

    public Replica B { get; private set; } = null!;

    public NginxServer Nginx { get; private set; } = null!;

    public TestDatabase Database { get; private set; } = null!;

    /// <summary>What the replicas have in <c>ConnectionStrings:Redis</c>.</summary>
    public string RedisConnectionString { get; private set; } = "";

    /// <summary>The replicas' <c>Chat:RedisPrefix</c>: this fixture's own, since a Redis Cluster is shared by the test run.</summary>
    public string RedisPrefix { get; } = TestClient.Unique("t") + ":";

    /// <summary>The key of the replicas' admin API.</summary>
    public const string AdminKey = "test-admin-key";

    /// <summary>The engine the replicas share.</summary>
    protected virtual string Provider => "mysql";

    /// <summary>The replicas' <c>Chat:Login:Multiple</c>.</summary>
    protected virtual string Devices => "reject";

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync(Provider, "cluster");
        RedisConnectionString = await StartRedisAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = RedisConnectionString,
            ["Chat:RedisPrefix"] = RedisPrefix,
            ["Chat:PresenceTtl"] = PresenceTtl.ToString(),
            ["Chat:Login:Multiple"] = Devices,
            ["Chat:Admin:Keys:0"] = AdminKey,
        };
        foreach (var (key, value) in await MoreSettingsAsync())
        {
            settings[key] = value;
        }

        A = await Replica.StartAsync(Database, new Dictionary<string, string?>(settings) { ["Chat:ReplicaId"] = "replica-a-" + Environment.ProcessId });
        B = await Replica.StartAsync(Database, new Dictionary<string, string?>(settings) { ["Chat:ReplicaId"] = "replica-b-" + Environment.ProcessId });
        Nginx = await NginxServer.StartNewAsync([A.ChatPort, B.ChatPort], httpUpstreamPorts: [A.HttpPort, B.HttpPort]);
    }

    public virtual async Task DisposeAsync()
    {
        await Nginx.DisposeAsync();
        await A.DisposeAsync();
        await B.DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    /// <summary>Settings a derived fixture adds to both replicas' (started before them).</summary>
    protected virtual Task<IReadOnlyDictionary<string, string?>> MoreSettingsAsync() => Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>());

    /// <summary>The Redis the replicas share: a fresh one of this class's own.</summary>
    protected virtual async Task<string> StartRedisAsync()
    {
        _redis = await RedisServer.StartNewAsync();
        return _redis.ConnectionString;
    }
}

/// <summary>The cluster on PostgreSQL, for the smoke test that keeps that engine working in a cluster.</summary>
public sealed class PostgresClusterFixture : ClusterFixture
{
    protected override string Provider => "postgres";
}

/// <summary><see cref="ClusterFixture"/> on the test run's Redis Cluster (<see cref="RedisClusterServer"/>).</summary>
public sealed class RedisClusterFixture : ClusterFixture
{
    protected override async Task<string> StartRedisAsync() => (await RedisClusterServer.StartedAsync()).ConnectionString;
}

/// <summary>The cluster with <c>Chat:Login:Multiple=allow</c>: a user's sessions on both replicas at once.</summary>
public sealed class AllowDevicesClusterFixture : ClusterFixture
{
    protected override string Devices => "allow";
}

/// <summary>The cluster with <c>Chat:Login:Multiple=replace</c>: a new login closes the older sessions, wherever they are.</summary>
public sealed class ReplaceDevicesClusterFixture : ClusterFixture
{
    protected override string Devices => "replace";
}
