using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Cluster;

/// <summary>
/// Two replicas sharing one MariaDB database (the card's MySQL) and one Redis, with a real nginx in front of both,
/// as in production. Each test class gets its own. <see cref="PostgresClusterFixture"/> is the same on PostgreSQL.
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public Replica A { get; private set; } = null!;

    public Replica B { get; private set; } = null!;

    public NginxServer Nginx { get; private set; } = null!;

    public TestDatabase Database { get; private set; } = null!;

    /// <summary>The engine the replicas share.</summary>
    protected virtual string Provider => "mysql";

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync(Provider, "cluster");
        Redis = await RedisServer.StartNewAsync();
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = Redis.ConnectionString, ["Chat:PresenceTtl"] = "00:00:03" };
        A = await Replica.StartAsync(Database, new Dictionary<string, string?>(settings) { ["Chat:ReplicaId"] = "replica-a-" + Environment.ProcessId });
        B = await Replica.StartAsync(Database, new Dictionary<string, string?>(settings) { ["Chat:ReplicaId"] = "replica-b-" + Environment.ProcessId });
        Nginx = await NginxServer.StartNewAsync([A.ChatPort, B.ChatPort]);
    }

    public async Task DisposeAsync()
    {
        await Nginx.DisposeAsync();
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>The cluster on PostgreSQL, for the smoke test that keeps that engine working in a cluster.</summary>
public sealed class PostgresClusterFixture : ClusterFixture
{
    protected override string Provider => "postgres";
}
