using System.Globalization;
using MySqlConnector;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// Three MariaDB Galera nodes (Debian's galera-4) on three loopback addresses of their own (127.X.Y.2–4, chosen at
/// random per run so that parallel runs and scripts/cluster.sh's 127.0.0.2–4 never meet), one SQL port for all,
/// their own data directories, SST by rsync. Shared by the test process (<see cref="StartedAsync"/>); a test may kill
/// a node (<see cref="Kill"/>) and bring it back (<see cref="StartNodeAsync"/>, which rejoins by IST).
/// As root the nodes run as the mysql user: the rsync daemon the joiner starts for SST drops root to nobody otherwise.
/// </summary>
public sealed class GaleraCluster
{
    public const int Nodes = 3;
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);
    private static readonly Lazy<Task<GaleraCluster>> Shared = new(StartNewAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _mariadbd;
    private readonly ChildProcess?[] _processes = new ChildProcess?[Nodes];

    private GaleraCluster(string mariadbd, string root, string addressBase, int port)
    {
        _mariadbd = mariadbd;
        RootDirectory = root;
        AddressBase = addressBase;
        Port = port;
    }

    public string RootDirectory { get; }

    /// <summary>127.X.Y.: node n (0-based) listens on this + (n + 2).</summary>
    public string AddressBase { get; }

    /// <summary>The SQL port, the same on every node.</summary>
    public int Port { get; }

    public string Address(int node) => AddressBase + (node + 2).ToString(CultureInfo.InvariantCulture);

    public static Task<GaleraCluster> StartedAsync() => Shared.Value;

    /// <summary>The replicas' connection string: every node, in failover order (MySqlConnector's LoadBalance=FailOver).</summary>
    public string ConnectionStringFor(string database) => new MySqlConnectionStringBuilder
    {
        Server = string.Join(',', Enumerable.Range(0, Nodes).Select(Address)),
        Port = (uint)Port,
        UserID = "chat",
        Password = "chat",
        Database = database,
        LoadBalance = MySqlLoadBalance.FailOver,
    }.ConnectionString;

    /// <summary>One node only, for checks that must ask that node.</summary>
    public string NodeConnectionString(int node, string database = "") => new MySqlConnectionStringBuilder
    {
        Server = Address(node),
        Port = (uint)Port,
        UserID = "chat",
        Password = "chat",
        Database = database,
        Pooling = false,
        ConnectionTimeout = 3,
    }.ConnectionString;

    public async Task<TestDatabase> CreateDatabaseAsync(string prefix)
    {
        var name = DatabaseName.From(prefix);
        await ExecuteOnAnyAsync($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
        return new TestDatabase("mysql", ConnectionStringFor(name));
    }

    /// <summary>SIGKILL: the node dies mid-whatever, as a crashed machine would.</summary>
    public void Kill(int node)
    {
        _processes[node]?.Kill(entireProcessTree: false);
        _processes[node]?.Dispose();
        _processes[node] = null;
    }

    /// <summary>SIGTERM: a clean shutdown (the node leaves the cluster and closes its clients' connections); waits for it to exit.</summary>
    public async Task StopAsync(int node)
    {
        if (_processes[node] is not { } process)
        {
            return;
        }

        var kill = Executable.Require("kill", "apt-get install procps", "/usr/bin", "/bin");
        (await ChildProcess.RunAsync(kill, ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)], CommandTimeout)).EnsureSuccess();
        await process.WaitForExitAsync(CommandTimeout, killOnTimeout: true);
        process.Dispose();
        _processes[node] = null;
    }

    /// <summary>A status variable of one node (e.g. wsrep_cluster_size), or null when the node does not answer.</summary>
    /// <remarks>Asked as the OS user through the node's socket: it answers before the tests' user exists.</remarks>
    public async Task<string?> StatusAsync(int node, string variable)
    {
        var result = await ChildProcess.RunAsync(Executable.Require("mariadb", "apt-get install mariadb-client", "/usr/bin"), [
            "--no-defaults", "--socket=" + Path.Combine(NodeDirectory(node), "mariadb.sock"), "-u", SocketUser,
            "--connect-timeout=3", "-N", "-s", "-e", $"SHOW STATUS LIKE '{variable}'",
        ], TimeSpan.FromSeconds(10));
        return result.ExitCode == 0 && result.Output.Split('\t', '\n') is [_, var value, ..] ? value.Trim() : null;
    }

    private static string SocketUser => Executable.RunningAsRoot ? "root" : Environment.UserName;

    /// <summary>Whether <paramref name="node"/> is synced in a primary component of all three.</summary>
    public async Task<bool> SyncedAsync(int node) =>
        await StatusAsync(node, "wsrep_local_state_comment") == "Synced" && await StatusAsync(node, "wsrep_cluster_size") == "3";

    /// <summary>Starts (or restarts) a node: the first of a new cluster bootstraps it, any other joins.</summary>
    public async Task StartNodeAsync(int node, bool bootstrap = false)
    {
        var dir = NodeDirectory(node);
        var address = Address(node);
        var cluster = string.Join(',', Enumerable.Range(0, Nodes).Select(Address));
        var user = Executable.RunningAsRoot ? "mysql" : null;
        _processes[node] = ChildProcess.Start(_mariadbd, [
            "--no-defaults",
            "--datadir=" + Path.Combine(dir, "data"),
            "--tmpdir=" + Path.Combine(dir, "tmp"),
            "--port=" + Port.ToString(CultureInfo.InvariantCulture),
            "--bind-address=" + address,
            "--socket=" + Path.Combine(dir, "mariadb.sock"),
            "--pid-file=" + Path.Combine(dir, "mariadb.pid"),
            "--log-error=" + Path.Combine(dir, "mariadb.log"),
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_bin",
            "--max-connections=300",
            "--innodb-buffer-pool-size=32M",
            "--innodb-flush-log-at-trx-commit=2",
            "--skip-performance-schema",
            "--binlog-format=ROW",
            "--innodb-autoinc-lock-mode=2",
            "--wsrep-on=ON",
            "--wsrep-provider=/usr/lib/galera/libgalera_smm.so",
            "--wsrep-cluster-name=chat-tests",
            "--wsrep-cluster-address=gcomm://" + cluster,
            "--wsrep-node-address=" + address,
            "--wsrep-node-name=node" + node.ToString(CultureInfo.InvariantCulture),
            "--wsrep-sst-method=rsync",
            "--wsrep-sst-receive-address=" + address + ":4444",
            // Short timeouts: a killed node is evicted within seconds, and the other two keep the quorum (2 of 3).
            $"--wsrep-provider-options=gmcast.listen_addr=tcp://{address}:4567;ist.recv_addr={address}:4568;gcache.size=64M;"
                + "evs.suspect_timeout=PT2S;evs.inactive_timeout=PT4S;evs.keepalive_period=PT0.5S;evs.inactive_check_period=PT0.5S",
            .. user is null ? Array.Empty<string>() : ["--user=" + user],
            .. bootstrap ? ["--wsrep-new-cluster"] : Array.Empty<string>(),
        ], dir, orphanCleanup: pid => $"kill -KILL {pid}");
        await Wait.UntilAsync(async () => _processes[node] is { HasExited: true } p
                ? throw new InvalidOperationException($"galera node {node} exited with {p.ExitCode}: {p.Output} (log: {Path.Combine(dir, "mariadb.log")})")
                : await StatusAsync(node, "wsrep_local_state_comment") == "Synced",
            CommandTimeout,
            $"galera node {node} on {address}:{Port} to be synced (log: {Path.Combine(dir, "mariadb.log")})");
    }

    private string NodeDirectory(int node) => Path.Combine(RootDirectory, "node" + node.ToString(CultureInfo.InvariantCulture));

    private static async Task<GaleraCluster> StartNewAsync()
    {
        const string hint = "apt-get install mariadb-server galera-4 rsync";
        var mariadbd = Executable.Require("mariadbd", hint, "/usr/sbin");
        var installDb = Executable.Require("mariadb-install-db", hint, "/usr/bin");
        Executable.Require("rsync", hint, "/usr/bin");
        if (!File.Exists("/usr/lib/galera/libgalera_smm.so"))
        {
            throw new InvalidOperationException("Galera's provider /usr/lib/galera/libgalera_smm.so is missing: " + hint);
        }

        var root = Path.Combine("/tmp", "chat-tests-galera-" + Guid.NewGuid().ToString("N")[..12]);
        OrphanReaper.Register($"rm -rf {OrphanReaper.Quote(root)}");
        var addressBase = $"127.{Random.Shared.Next(100, 250)}.{Random.Shared.Next(1, 250)}.";
        var cluster = new GaleraCluster(mariadbd, root, addressBase, FreePort.Next());
        for (var node = 0; node < Nodes; node++)
        {
            var dir = cluster.NodeDirectory(node);
            Directory.CreateDirectory(Path.Combine(dir, "tmp"));
            if (Executable.RunningAsRoot)
            {
                (await ChildProcess.RunAsync(Executable.Require("chown", hint, "/usr/bin", "/bin"), ["-R", "mysql:", root], CommandTimeout)).EnsureSuccess();
            }

            // Every node starts from an installed data directory; the joiners' is replaced by SST.
            {
                (await ChildProcess.RunAsync(installDb, [
                    "--no-defaults",
                    "--datadir=" + Path.Combine(dir, "data"),
                    "--tmpdir=" + Path.Combine(dir, "tmp"),
                    "--auth-root-authentication-method=socket",
                    "--skip-test-db",
                    .. Executable.RunningAsRoot ? ["--user=mysql"] : Array.Empty<string>(),
                ], CommandTimeout, dir)).EnsureSuccess();
            }
        }

        await cluster.StartNodeAsync(0, bootstrap: true);
        // The tests' user, over TCP from any loopback address; replicated to the joiners with everything else.
        var mariadb = Executable.Require("mariadb", hint, "/usr/bin");
        (await ChildProcess.RunAsync(mariadb, [
            "--no-defaults", "--socket=" + Path.Combine(cluster.NodeDirectory(0), "mariadb.sock"), "-u", SocketUser,
            "-e", "CREATE USER 'chat'@'%' IDENTIFIED BY 'chat'; GRANT ALL PRIVILEGES ON *.* TO 'chat'@'%';",
        ], CommandTimeout)).EnsureSuccess();
        await cluster.StartNodeAsync(1);
        await cluster.StartNodeAsync(2);
        return cluster;
    }

    private async Task ExecuteOnAnyAsync(string sql)
    {
        await using var connection = new MySqlConnection(ConnectionStringFor(""));
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
