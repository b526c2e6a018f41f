using System.Globalization;

namespace Chat.Bench;

/// <summary>
/// The CPU time of the server's processes (replicas, database, Redis) read from <c>/proc/PID/stat</c> (utime + stime,
/// all threads), so a run can say how much server CPU each delivered message cost. Processes are given by pid or
/// found by a port they listen on (Linux; other systems report nothing).
/// </summary>
public sealed class ServerCpu
{
    /// <summary>USER_HZ: the unit of utime and stime, 100 on every Linux architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    private readonly IReadOnlyList<ServerProcess> _processes;
    private long[] _start = [];
    private long _startedAt;

    private ServerCpu(IReadOnlyList<ServerProcess> processes) => _processes = processes;

    public IReadOnlyList<ServerProcess> Processes => _processes;

    /// <summary>The processes listening on <paramref name="ports"/>, and <paramref name="pids"/>, each once.</summary>
    public static ServerCpu Find(IEnumerable<int> ports, IEnumerable<int> pids)
    {
        var found = new List<ServerProcess>();
        foreach (var pid in pids)
        {
            found.Add(new ServerProcess(pid, Command(pid), 0));
        }

        var listeners = ListeningInodes(ports.ToHashSet());
        if (listeners.Count > 0)
        {
            foreach (var (pid, port) in OwnersOf(listeners))
            {
                if (found.All(p => p.Pid != pid)) found.Add(new ServerProcess(pid, Command(pid), port));
            }
        }

        return new ServerCpu([.. found.OrderBy(p => p.Port == 0 ? int.MaxValue : p.Port)]);
    }

    /// <summary>Marks the start of the measured window.</summary>
    public void Start()
    {
        _start = [.. _processes.Select(p => Ticks(p.Pid))];
        _startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <summary>CPU used by each process since <see cref="Start"/>, per delivered message and as a share of one core.</summary>
    public IReadOnlyList<CpuShare> Stop(long delivered)
    {
        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(_startedAt).TotalSeconds;
        return [.. _processes.Select((p, i) =>
        {
            var used = (Ticks(p.Pid) - _start[i]) / TicksPerSecond;
            return new CpuShare(p, delivered > 0 ? used * 1e6 / delivered : double.NaN, seconds > 0 ? used / seconds : double.NaN);
        })];
    }

    /// <summary>The machine's load average over the last minute (null where /proc/loadavg is not).</summary>
    public static double? LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Ticks(int pid)
    {
        try
        {
            // Fields after the command (which may hold spaces, so cut at its closing parenthesis): state is field 3,
            // utime field 14, stime field 15.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static string Command(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }

    /// <summary>Socket inode → port of every TCP socket listening on one of <paramref name="ports"/>.</summary>
    private static Dictionary<string, int> ListeningInodes(HashSet<int> ports)
    {
        var inodes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10 || f[3] != "0A") continue;
                var port = int.Parse(f[1][(f[1].LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (ports.Contains(port)) inodes[$"socket:[{f[9]}]"] = port;
            }
        }

        return inodes;
    }

    private static string? LinkTarget(string fd)
    {
        try
        {
            return new FileInfo(fd).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static IEnumerable<(int Pid, int Port)> OwnersOf(Dictionary<string, int> inodes)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            string[] fds;
            try
            {
                fds = Directory.GetFiles(Path.Combine(dir, "fd"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var fd in fds)
            {
                if (LinkTarget(fd) is { } target && inodes.TryGetValue(target, out var port))
                {
                    yield return (pid, port);
                    break;
                }
            }
        }
    }
}

/// <summary>A server process measured: its pid, command name and the port it was found by (0: given by pid).</summary>
public sealed record ServerProcess(int Pid, string Name, int Port)
{
    public string Label => Port == 0 ? $"{Name}[{Pid}]" : $"{Name}:{Port}";
}

/// <summary>One process's CPU over the window: µs per delivered message, and its share of one core.</summary>
public sealed record CpuShare(ServerProcess Process, double MicrosPerMessage, double Cores);
