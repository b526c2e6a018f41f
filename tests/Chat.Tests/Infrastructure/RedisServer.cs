using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// A throwaway redis-server on its own loopback port, no persistence. One per test (or per test class) that needs
/// Redis, so a test can stop or restart "its" Redis without disturbing others. The port stays the same across
/// <see cref="RestartAsync"/>, as a real Redis restart would keep its address.
/// </summary>
/// <example><code>
/// await using var redis = await RedisServer.StartNewAsync();
/// ... redis.ConnectionString ...   // "127.0.0.1:PORT"
/// await redis.RestartAsync();      // same port, empty data set
/// </code></example>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _binary;
    private ChildProcess? _process;
    private bool _portConfirmed;
    private bool _disposed;

    /// <summary>Picks a port; nothing runs until <see cref="StartAsync"/>.</summary>
    public RedisServer()
    {
        _binary = Executable.Require("redis-server", "apt-get install redis-server", "/usr/bin");
        Port = FreePort.Next();
    }

    /// <summary>The loopback port; fixed once the server has started once.</summary>
    public int Port { get; private set; }

    /// <summary>StackExchange.Redis-style endpoint, "127.0.0.1:PORT".</summary>
    public string ConnectionString => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Pid of the running redis-server, or null when stopped.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Creates and starts a server.</summary>
    public static async Task<RedisServer> StartNewAsync()
    {
        var server = new RedisServer();
        try
        {
            await server.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts redis-server and returns once it answers PING. No-op when already running.</summary>
    public async Task StartAsync()
    {
        await _gate.WaitAsync();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (IsRunning)
            {
                return;
            }

            // A port picked by FreePort can be taken by another process before redis binds it: pick another,
            // but only before the first successful start (a restart must keep its port).
            for (var attempt = 1; ; attempt++)
            {
                var process = ChildProcess.Start(_binary, Arguments(Port), "/tmp", orphanCleanup: pid => $"kill -KILL {pid}");
                try
                {
                    await WaitUntilReadyAsync(process);
                    _process = process;
                    _portConfirmed = true;
                    return;
                }
                catch (InvalidOperationException) when (!_portConfirmed && attempt < 5 && process.Output.Contains("in use", StringComparison.OrdinalIgnoreCase))
                {
                    process.Dispose();
                    Port = FreePort.Next();
                }
                catch
                {
                    process.Dispose();
                    throw;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Kills the redis-server this fixture started (SIGKILL, by pid) and waits until it is gone.</summary>
    public async Task StopAsync()
    {
        await _gate.WaitAsync();
        try
        {
            await StopCoreAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops and starts again on the same port. All data is lost (no persistence).</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await StopCoreAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    private static string[] Arguments(int port) =>
    [
        "--port", port.ToString(CultureInfo.InvariantCulture),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--protected-mode", "yes",
        "--logfile", "",
        "--dir", "/tmp",
    ];

    private async Task StopCoreAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        process.Kill(entireProcessTree: false);
        await process.WaitForExitAsync(StopTimeout);
        process.Dispose();
        await Wait.UntilAsync(() => !LoopbackTcp.IsListening(Port), StopTimeout, $"redis on port {Port} to stop listening");
    }

    private async Task WaitUntilReadyAsync(ChildProcess process)
    {
        var port = Port;
        await Wait.UntilAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException(
                        $"redis-server exited with code {process.ExitCode} before accepting connections on port {port}.\n" +
                        $"{process.CommandLine}\n{process.Output}");
                }

                return await PingAsync(port);
            },
            StartTimeout,
            $"redis-server (pid {process.Id}) to answer PING on 127.0.0.1:{port}");
    }

    /// <summary>True when 127.0.0.1:<paramref name="port"/> answers an inline PING with +PONG.</summary>
    internal static async Task<bool> PingAsync(int port)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
            await socket.SendAsync("PING\r\n"u8.ToArray(), SocketFlags.None, cts.Token);
            var buffer = new byte[64];
            var total = 0;
            while (total < 7)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    return false;
                }

                total += read;
            }

            return Encoding.ASCII.GetString(buffer, 0, total) == "+PONG\r\n";
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
