using System.Globalization;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Cluster;

/// <summary>
/// A replica in its own process (the built Chat.Server.dll run by dotnet), for tests that kill it. Configured
/// through command-line configuration keys, exactly as an operator would.
/// </summary>
public sealed class ReplicaProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly ChildProcess _process;

    private ReplicaProcess(ChildProcess process, int chatPort, int httpPort)
    {
        _process = process;
        ChatPort = chatPort;
        HttpPort = httpPort;
    }

    public int ChatPort { get; }

    public int HttpPort { get; }

    public int ProcessId => _process.Id;

    /// <summary>What the replica printed so far.</summary>
    public string Output => _process.Output;

    /// <param name="database">The database, or null for none configured (a SQLite file in <paramref name="workingDirectory"/>).</param>
    /// <param name="redis">Redis connection string, or null for a single node.</param>
    public static async Task<ReplicaProcess> StartAsync(
        TestDatabase? database, string? redis, IDictionary<string, string>? settings = null, string? workingDirectory = null)
    {
        var chatPort = FreePort.Next();
        var httpPort = FreePort.Next();
        var arguments = new Dictionary<string, string>
        {
            ["ConnectionStrings:Redis"] = redis ?? "",
            ["Chat:ListenAddress"] = "127.0.0.1",
            ["Chat:Port"] = chatPort.ToString(CultureInfo.InvariantCulture),
            ["Chat:HttpPort"] = httpPort.ToString(CultureInfo.InvariantCulture),
            ["Chat:PasswordIterations"] = "10000",
            // Every test user registers and logs in from 127.0.0.1: the per-address budgets are for real clients.
            ["Chat:RegistrationsPerAddress"] = "1000000",
            ["Chat:PasswordLoginsPerAddress"] = "1000000",
            // Tests written before Chat:Login:MinPasswordLength register with short passwords ("pw"); the rule itself is
            // tested with its default (AccountRulesTests).
            ["Chat:Login:MinPasswordLength"] = "1",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in database?.Settings ?? new Dictionary<string, string?>())
        {
            arguments[key] = value!;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            arguments[key] = value;
        }

        var process = ChildProcess.StartBuilt(
            "Chat.Server.dll",
            arguments.Select(a => $"--{a.Key}={a.Value}"),
            workingDirectory,
            orphanCleanup: pid => $"kill -KILL {pid}");
        var replica = new ReplicaProcess(process, chatPort, httpPort);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Wait.UntilAsync(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"replica exited with {process.ExitCode}:\n{process.Output}");
            }

            return await replica.IsReadyAsync(http);
        }, StartTimeout, $"replica on port {chatPort} becomes ready");
        return replica;
    }

    public async Task<bool> IsReadyAsync(HttpClient http)
    {
        try
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{HttpPort}/readyz"));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM, the way an orchestrator stops a replica; waits for it to exit and returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        var kill = Executable.Require("kill", "apt-get install procps", "/usr/bin", "/bin");
        (await ChildProcess.RunAsync(kill, ["-TERM", ProcessId.ToString(CultureInfo.InvariantCulture)], timeout)).EnsureSuccess();
        await _process.WaitForExitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no drain, no presence release, nothing flushed.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: false);

    /// <summary><see cref="KillHard"/>, and back once the process is gone: nothing it sent can be answered after this.</summary>
    public async Task KillHardAsync()
    {
        KillHard();
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGSTOP: the process stays, frozen, its sockets open (as a long GC pause or a stalled VM).</summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        var kill = Executable.Require("kill", "apt-get install procps", "/usr/bin", "/bin");
        (await ChildProcess.RunAsync(kill, [signal, ProcessId.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10))).EnsureSuccess();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }
}
