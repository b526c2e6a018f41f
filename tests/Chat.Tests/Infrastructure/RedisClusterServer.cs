using System.Globalization;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// One throwaway Redis Cluster for the whole test process, started on first use: six redis-server processes on loopback
/// ports of their own (three masters, three replicas, made with <c>redis-cli --cluster create --cluster-replicas 1</c>),
/// each in its own temp directory, no persistence, a 1 s cluster-node-timeout so a replica takes over a dead master
/// within a few seconds. A test can SIGKILL a node (<see cref="Kill"/>) and start it again on the same port and
/// directory (<see cref="StartAsync(int)"/>): it rejoins the cluster from its nodes.conf. Stopped, and its directory
/// deleted, when the test process exits (<see cref="ChildProcess"/>, <see cref="OrphanReaper"/>).
/// </summary>
/// <example><code>
/// var cluster = await RedisClusterServer.StartedAsync();
/// ... cluster.ConnectionString ...                    // "127.0.0.1:P1,127.0.0.1:P2,..."
/// var node = await cluster.MasterOfAsync("chat:user:7");
/// cluster.Kill(node);                                 // the cluster fails over
/// await cluster.StartAsync(node);                     // back, as a replica of its successor
/// </code></example>
public sealed class RedisClusterServer
{
    public const int Nodes = 6;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);
    private static readonly Lazy<Task<RedisClusterServer>> Shared = new(StartNewAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _server = Executable.Require("redis-server", "apt-get install redis-server", "/usr/bin");
    private readonly string _cli = Executable.Require("redis-cli", "apt-get install redis-tools", "/usr/bin");
    private readonly string _root;
    private readonly ChildProcess?[] _processes = new ChildProcess?[Nodes];
    private readonly Lock _gate = new();

    private RedisClusterServer(string root)
    {
        _root = root;
        Ports = [.. Enumerable.Range(0, Nodes).Select(_ => FreePort.Next())];
        // The cluster bus port of each node, named rather than left at port + 10000, which may be taken.
        BusPorts = [.. Enumerable.Range(0, Nodes).Select(_ => FreePort.Next())];
    }

    /// <summary>The nodes' ports on 127.0.0.1, by node index.</summary>
    public IReadOnlyList<int> Ports { get; }

    private IReadOnlyList<int> BusPorts { get; }

    /// <summary>StackExchange.Redis-style seed list naming every node.</summary>
    public string ConnectionString => string.Join(',', Ports.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The process-wide cluster, created on first call.</summary>
    public static Task<RedisClusterServer> StartedAsync() => Shared.Value;

    /// <summary>True while node <paramref name="node"/> runs.</summary>
    public bool IsRunning(int node)
    {
        lock (_gate) return _processes[node] is { HasExited: false };
    }

    /// <summary>SIGKILLs node <paramref name="node"/> (by the pid this fixture started) and waits until it is gone.</summary>
    public async Task KillAsync(int node)
    {
        ChildProcess? process;
        lock (_gate)
        {
            process = _processes[node];
            _processes[node] = null;
        }

        if (process is null)
        {
            return;
        }

        process.Kill(entireProcessTree: false);
        await process.WaitForExitAsync(CommandTimeout);
        process.Dispose();
    }

    /// <summary>Starts node <paramref name="node"/> again, same port and directory; returns once it answers PING.</summary>
    public async Task StartAsync(int node)
    {
        var process = ChildProcess.Start(_server, Arguments(node), NodeDirectory(node), orphanCleanup: pid => $"kill -KILL {pid}");
        lock (_gate) _processes[node] = process;
        var port = Ports[node];
        await Wait.UntilAsync(
            async () => process.HasExited
                ? throw new InvalidOperationException($"redis-server exited with {process.ExitCode}:\n{process.CommandLine}\n{process.Output}")
                : await RedisServer.PingAsync(port),
            StartTimeout,
            $"cluster node {node} (pid {process.Id}) to answer PING on 127.0.0.1:{port}");
    }

    /// <summary>The index of the node that is master of the slot of <paramref name="keyOrChannel"/> now.</summary>
    public async Task<int> MasterOfAsync(string keyOrChannel)
    {
        var node = RunningNode();
        var slot = int.Parse((await CliAsync(node, "CLUSTER", "KEYSLOT", keyOrChannel)).Trim(), CultureInfo.InvariantCulture);
        foreach (var line in (await CliAsync(node, "CLUSTER", "NODES")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot> <slot> ...
            var fields = line.Split(' ');
            if (!fields[2].Contains("master", StringComparison.Ordinal) || fields[2].Contains("fail", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var range in fields.Skip(8).Where(f => !f.StartsWith('[')))
            {
                var bounds = range.Split('-');
                var (low, high) = (int.Parse(bounds[0], CultureInfo.InvariantCulture), int.Parse(bounds[^1], CultureInfo.InvariantCulture));
                if (slot >= low && slot <= high)
                {
                    var port = int.Parse(fields[1].Split('@')[0].Split(':')[1], CultureInfo.InvariantCulture);
                    return Ports.ToList().IndexOf(port);
                }
            }
        }

        throw new InvalidOperationException($"no live master serves slot {slot} ({keyOrChannel})");
    }

    /// <summary>
    /// Moves the slot of <paramref name="keyOrChannel"/>, with its keys, from its master to <paramref name="toNode"/> (a
    /// master), the way <c>redis-cli --cluster reshard</c> moves each slot: IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE.
    /// </summary>
    public async Task MoveSlotAsync(string keyOrChannel, int toNode)
    {
        var fromNode = await MasterOfAsync(keyOrChannel);
        var slot = (await CliAsync(fromNode, "CLUSTER", "KEYSLOT", keyOrChannel)).Trim();
        var from = (await CliAsync(fromNode, "CLUSTER", "MYID")).Trim();
        var to = (await CliAsync(toNode, "CLUSTER", "MYID")).Trim();
        await CliAsync(toNode, "CLUSTER", "SETSLOT", slot, "IMPORTING", from);
        await CliAsync(fromNode, "CLUSTER", "SETSLOT", slot, "MIGRATING", to);
        while ((await CliAsync(fromNode, "CLUSTER", "GETKEYSINSLOT", slot, "100")).Split('\n', StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } keys)
        {
            await CliAsync(fromNode, ["MIGRATE", "127.0.0.1", Ports[toNode].ToString(CultureInfo.InvariantCulture), "", "0", "5000", "REPLACE", "KEYS", .. keys]);
        }

        // The new owner first, then the old one, then the rest (as redis-cli does): never a moment when the old owner
        // redirects to a node that does not know yet that it owns the slot.
        foreach (var node in new[] { toNode, fromNode }.Concat(Enumerable.Range(0, Nodes).Where(n => n != toNode && n != fromNode && IsRunning(n))))
        {
            await CliAsync(node, "CLUSTER", "SETSLOT", slot, "NODE", to);
        }
    }

    /// <summary>The nodes that are masters now, by index (as the running nodes see it).</summary>
    public async Task<int[]> MastersAsync()
    {
        var masters = new List<int>();
        for (var node = 0; node < Nodes; node++)
        {
            if (IsRunning(node) && (await CliAsync(node, "ROLE")).StartsWith("master", StringComparison.Ordinal))
            {
                masters.Add(node);
            }
        }

        return [.. masters];
    }

    /// <summary>Waits until every running node says the cluster is ok and every slot has a live master with a live replica
    /// known to it, so the next test starts from a whole cluster.</summary>
    public Task WaitHealthyAsync(TimeSpan timeout) =>
        Wait.UntilAsync(
            async () =>
            {
                for (var node = 0; node < Nodes; node++)
                {
                    if (!IsRunning(node) || !(await CliAsync(node, "CLUSTER", "INFO")).Contains("cluster_state:ok", StringComparison.Ordinal))
                    {
                        return false;
                    }
                }

                var nodes = await CliAsync(RunningNode(), "CLUSTER", "NODES");
                return !nodes.Contains("fail", StringComparison.Ordinal) && (await MastersAsync()).Length == Nodes / 2;
            },
            timeout,
            "the Redis Cluster to be whole: six nodes up, three masters, cluster_state:ok everywhere");

    /// <summary>redis-cli against node <paramref name="node"/>; its reply as text.</summary>
    public async Task<string> CliAsync(int node, params string[] command)
    {
        var result = await ChildProcess.RunAsync(_cli, ["-h", "127.0.0.1", "-p", Ports[node].ToString(CultureInfo.InvariantCulture), .. command], CommandTimeout);
        return result.EnsureSuccess().Output;
    }

    private static async Task<RedisClusterServer> StartNewAsync()
    {
        var tempRoot = Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath();
        var root = Path.Combine(tempRoot, "chat-tests-redis-cluster-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        OrphanReaper.Register("rm -rf " + OrphanReaper.Quote(root));
        var cluster = new RedisClusterServer(root);
        for (var node = 0; node < Nodes; node++)
        {
            Directory.CreateDirectory(cluster.NodeDirectory(node));
        }

        await Task.WhenAll(Enumerable.Range(0, Nodes).Select(cluster.StartAsync));
        // The first three become masters, each of the others a replica of one of them.
        var create = await ChildProcess.RunAsync(
            cluster._cli,
            ["--cluster", "create", .. cluster.Ports.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture)), "--cluster-replicas", "1", "--cluster-yes"],
            TimeSpan.FromSeconds(60));
        create.EnsureSuccess();
        await cluster.WaitHealthyAsync(StartTimeout);
        return cluster;
    }

    private string NodeDirectory(int node) => Path.Combine(_root, "node" + node.ToString(CultureInfo.InvariantCulture));

    private int RunningNode() => Enumerable.Range(0, Nodes).First(IsRunning);

    private string[] Arguments(int node) =>
    [
        "--port", Ports[node].ToString(CultureInfo.InvariantCulture),
        "--bind", "127.0.0.1",
        "--cluster-enabled", "yes",
        "--cluster-config-file", "nodes.conf",
        "--cluster-port", BusPorts[node].ToString(CultureInfo.InvariantCulture),
        "--cluster-node-timeout", "1000",
        // A replica takes over however long it was cut off from its master; the slots of a live master keep working
        // while another master's slots fail over.
        "--cluster-replica-validity-factor", "0",
        "--cluster-require-full-coverage", "no",
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--logfile", "",
        "--dir", NodeDirectory(node),
    ];
}
