using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Chat.Tests.Infrastructure;

/// <summary>Locates the server binaries the integration tests start.</summary>
public static class Executable
{
    /// <summary>
    /// Full path of <paramref name="name"/>: the first hit in <paramref name="preferredDirectories"/>, then in
    /// PATH, then in /usr/sbin and /sbin (absent from a non-root PATH on Debian); null when nowhere.
    /// </summary>
    public static string? Find(string name, params IEnumerable<string> preferredDirectories)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var directories = preferredDirectories
            .Concat(path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            .Concat(["/usr/local/sbin", "/usr/sbin", "/sbin"]);
        foreach (var directory in directories)
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Like <see cref="Find"/> but throws a message that says how to install the binary.</summary>
    public static string Require(string name, string installHint, params IEnumerable<string> preferredDirectories) =>
        Find(name, preferredDirectories)
        ?? throw new InvalidOperationException(
            $"'{name}' was not found (searched {string.Join(", ", preferredDirectories.Append("PATH"))}). " +
            $"Integration tests start their own servers and need it: {installHint} (scripts/test.sh installs it).");

    /// <summary>True when this process runs as root (servers like PostgreSQL must then run as another user).</summary>
    public static bool RunningAsRoot => OperatingSystem.IsLinux() && Environment.IsPrivilegedProcess;
}

/// <summary>Exit code and combined stdout/stderr of a finished command.</summary>
public sealed record CommandResult(string CommandLine, int ExitCode, string Output)
{
    public CommandResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"Command failed with exit code {ExitCode}: {CommandLine}\n{Output}");
        }

        return this;
    }
}

/// <summary>
/// A child process started by the tests, with its stdout and stderr captured (last 64 KiB) for error messages.
/// Every child still running when the test process exits is killed (with its process tree) by pid; a child the
/// tests forget to stop cannot outlive the run unless the test host itself is killed with SIGKILL.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private const int MaxCapturedChars = 64 * 1024;

    private static readonly ConcurrentDictionary<ChildProcess, byte> Live = new();

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _outputGate = new();
    private IDisposable? _orphanCleanup;

    static ChildProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAllLive();

    private ChildProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
    }

    public string CommandLine { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What the process wrote to stdout and stderr so far (the last 64 KiB of it).</summary>
    public string Output
    {
        get
        {
            lock (_outputGate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The dotnet host running the tests (the SDK's, under <c>dotnet test</c>).</summary>
    public static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    /// <summary>One of the solution's programs built beside the tests (e.g. <c>Chat.Server.dll</c>), run by <see cref="DotnetHost"/>.</summary>
    public static ChildProcess StartBuilt(string assembly, IEnumerable<string> arguments, string? workingDirectory = null, Func<int, string>? orphanCleanup = null) =>
        Start(DotnetHost, [Path.Combine(AppContext.BaseDirectory, assembly), .. arguments], workingDirectory, orphanCleanup);

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/> (no shell, no quoting issues).
    /// <paramref name="orphanCleanup"/> (given the pid) is a shell script that <see cref="OrphanReaper"/> runs if
    /// the test process dies while this child still runs, e.g. <c>pid =&gt; $"kill -KILL {pid}"</c>.</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null, Func<int, string>? orphanCleanup = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? "/",
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var commandLine = string.Join(' ', startInfo.ArgumentList.Prepend(fileName).Select(Quote));
        var process = new Process { StartInfo = startInfo };
        var child = new ChildProcess(process, commandLine);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start {commandLine}: {e.Message}", e);
        }

        if (orphanCleanup is not null)
        {
            child._orphanCleanup = OrphanReaper.Register(orphanCleanup(process.Id));
        }

        Live.TryAdd(child, 0);
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a command to completion; kills it (and its children) and throws when it outlives <paramref name="timeout"/>.</summary>
    public static async Task<CommandResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        using var child = Start(fileName, arguments, workingDirectory);
        await child.WaitForExitAsync(timeout, killOnTimeout: true);
        return new CommandResult(child.CommandLine, child.ExitCode, child.Output);
    }

    /// <summary>Synchronous <see cref="RunAsync"/>, for process-exit cleanup where nothing may be awaited.</summary>
    public static CommandResult Run(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        using var child = Start(fileName, arguments, workingDirectory);
        if (!child._process.WaitForExit(timeout))
        {
            child.Kill(entireProcessTree: true);
            throw new TimeoutException($"{child.CommandLine} did not finish within {timeout.TotalSeconds:0.#} s.\n{child.Output}");
        }

        child._process.WaitForExit(); // drains the output readers
        return new CommandResult(child.CommandLine, child.ExitCode, child.Output);
    }

    /// <summary>Waits until the process has exited and its output is drained.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout, bool killOnTimeout = false)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            if (killOnTimeout)
            {
                Kill(entireProcessTree: true);
            }

            throw new TimeoutException($"{CommandLine} (pid {Id}) did not exit within {timeout.TotalSeconds:0.#} s.\n{Output}");
        }
    }

    /// <summary>SIGKILLs this process (and, when asked, its descendants) if it is still running.</summary>
    public void Kill(bool entireProcessTree)
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
    }

    /// <summary>Kills the process tree if still running, and forgets it.</summary>
    public void Dispose()
    {
        if (Live.TryRemove(this, out _))
        {
            Kill(entireProcessTree: true);
        }

        _orphanCleanup?.Dispose();
        _process.Dispose();
    }

    private static void KillAllLive()
    {
        foreach (var child in Live.Keys)
        {
            child.Kill(entireProcessTree: true);
            child._orphanCleanup?.Dispose();
        }
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? argument : $"'{argument}'";

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_outputGate)
        {
            _output.Append(line).Append('\n');
            if (_output.Length > MaxCapturedChars)
            {
                _output.Remove(0, _output.Length - MaxCapturedChars);
            }
        }
    }
}

/// <summary>
/// Cleanup that runs after the test process is gone, however it went. The test host cannot be trusted to run its
/// exit handlers to the end: vstest kills it about 100 ms after the last test, and a crash or SIGKILL skips them
/// entirely. So each test process starts one watchdog, <c>setsid sh reaper.sh DIR</c>, whose stdin is a pipe only
/// we hold; when our process dies the kernel closes the pipe, the watchdog's <c>read</c> returns, and it runs
/// every <c>*.cleanup</c> script still registered in DIR (stop a server we started, by its pid; delete a temp
/// directory), then deletes DIR. A fixture registers a script when it creates something and disposes the
/// registration once it has cleaned up itself.
/// </summary>
public static class OrphanReaper
{
    private const string Script = """
        # Watchdog of one test process: runs the registered cleanup scripts once that process is gone.
        exec >/dev/null 2>&1
        while read -r _; do :; done
        for f in "$1"/*.cleanup; do
            [ -f "$f" ] && sh "$f"
        done
        rm -rf "$1"

        """;

    private static readonly Lock Gate = new();
    private static string? _directory;
    private static Process? _watchdog; // holds the write end of the watchdog's stdin for our whole lifetime
    private static long _sequence;

    /// <summary>The watchdog's pid, once started.</summary>
    public static int? WatchdogProcessId => _watchdog?.Id;

    /// <summary>Registers a POSIX sh script to run after this process exits; dispose the result to cancel it.</summary>
    public static IDisposable Register(string shellScript)
    {
        var directory = EnsureStarted();
        var path = Path.Combine(directory, $"{Interlocked.Increment(ref _sequence):D6}.cleanup");
        File.WriteAllText(path, shellScript + "\n");
        return new Registration(path);
    }

    /// <summary>Single-quotes <paramref name="value"/> for sh.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string EnsureStarted()
    {
        lock (Gate)
        {
            if (_directory is not null)
            {
                return _directory;
            }

            var tempRoot = Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath();
            var directory = Path.Combine(tempRoot, $"chat-tests-reaper-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
            Directory.CreateDirectory(directory);
            var script = Path.Combine(directory, "reaper.sh");
            File.WriteAllText(script, Script);

            // setsid: out of our process group and session, so a Ctrl+C or SIGHUP aimed at the test run does not
            // kill the watchdog before it has cleaned up.
            var setsid = Executable.Find("setsid", "/usr/bin", "/bin");
            var sh = Executable.Require("sh", "the POSIX shell", "/bin", "/usr/bin");
            var startInfo = new ProcessStartInfo(setsid ?? sh)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = "/",
            };
            if (setsid is not null)
            {
                startInfo.ArgumentList.Add(sh);
            }

            startInfo.ArgumentList.Add(script);
            startInfo.ArgumentList.Add(directory);
            _watchdog = Process.Start(startInfo)
                ?? throw new InvalidOperationException("Could not start the orphan reaper watchdog.");
            _directory = directory;
            return directory;
        }
    }

    private sealed class Registration(string path) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                File.Delete(path);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }
}
