using System.Diagnostics;
using System.Globalization;
using System.Text;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Client;

/// <summary>
/// The real console client (the built Chat.Client.dll run by dotnet) driven through a stdin pipe. Its stdout lines
/// are read in order: each expectation looks for a line after the one the previous expectation matched.
/// </summary>
public sealed class ClientProcess : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly IDisposable _orphanCleanup;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private int _next;

    private ClientProcess(Process process)
    {
        _process = process;
        _orphanCleanup = OrphanReaper.Register($"kill -KILL {process.Id}");
    }

    /// <summary>Everything the client printed so far (stdout and stderr), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    public static ClientProcess Start(int port, IReadOnlyDictionary<string, string>? environment = null) =>
        Start(["127.0.0.1", port.ToString(CultureInfo.InvariantCulture)], environment);

    /// <summary>Starts the client with <paramref name="arguments"/> as its command line (e.g. a <c>ws://</c> endpoint).</summary>
    public static ClientProcess Start(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo(ChildProcess.DotnetHost)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            WorkingDirectory = "/",
        };
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Chat.Client.dll"));
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        var process = new Process { StartInfo = startInfo };
        process.Start();
        var client = new ClientProcess(process);
        process.OutputDataReceived += (_, e) => client.Append(e.Data);
        process.ErrorDataReceived += (_, e) => client.Append(e.Data is null ? null : "stderr: " + e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return client;
    }

    /// <summary>Types a line.</summary>
    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Ends the input, as when the pipe into the client closes.</summary>
    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>The next line (after the last one matched) that <paramref name="match"/> accepts.</summary>
    public async Task<string> ExpectAsync(Func<string, bool> match, string what)
    {
        string? found = null;
        try
        {
            await Wait.UntilAsync(() =>
            {
                lock (_gate)
                {
                    var index = _lines.FindIndex(_next, line => match(line));
                    if (index < 0)
                    {
                        return false;
                    }

                    found = _lines[index];
                    _next = index + 1;
                    return true;
                }
            }, Deadline, what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\nclient output:\n{Output}", e);
        }

        return found!;
    }

    public Task<string> ExpectAsync(string line) => ExpectAsync(l => l == line, $"the line '{line}'");

    public Task<string> ExpectStartingAsync(string prefix) =>
        ExpectAsync(l => l.StartsWith(prefix, StringComparison.Ordinal), $"a line starting with '{prefix}'");

    /// <summary>How many lines printed so far are exactly <paramref name="line"/>.</summary>
    public int Count(string line)
    {
        lock (_gate)
        {
            return _lines.Count(l => l == line);
        }
    }

    public async Task<int> WaitForExitAsync()
    {
        using var cts = new CancellationTokenSource(Deadline);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the client did not exit within {Deadline}\nclient output:\n{Output}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _orphanCleanup.Dispose();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Add(line);
        }
    }
}
