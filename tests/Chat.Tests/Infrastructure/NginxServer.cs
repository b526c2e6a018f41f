using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// A throwaway nginx in stream (TCP) mode that balances connections over upstream loopback ports, configured
/// as production's nginx.conf: <c>least_conn</c>, <c>max_fails=1 fail_timeout=2s</c>, 1 s connect timeout.
/// Given the replicas' HTTP ports too, it also runs production's <c>http</c> server on <see cref="HttpPort"/>:
/// <c>/</c> and <c>/ws</c> (WebSocket upgrade, X-Forwarded-For) proxied to them, <c>least_conn</c>.
/// Per client address at most <see cref="ConnectionsPerAddress"/> connections on each port (<c>limit_conn</c>, 200 as in
/// production unless a test lifts it), and production's <c>worker_rlimit_nofile</c> / <c>worker_connections</c>.
/// Its config, pid file, temporary files and error log live in a temp prefix directory that is deleted on dispose.
/// </summary>
/// <example><code>
/// await using var nginx = await NginxServer.StartNewAsync([replicaA.Port, replicaB.Port]);
/// ... connect to 127.0.0.1:nginx.Port ...
/// await nginx.ReloadAsync([replicaB.Port]);   // new connections go to B only
/// </code></example>
public sealed partial class NginxServer : IAsyncDisposable
{
    private const string StreamModule = "/usr/lib/nginx/modules/ngx_stream_module.so";
    private const string WorkerStarted = "start worker process ";
    private const string WorkerRetiring = "gracefully shutting down";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _binary;
    private readonly DirectoryInfo _prefix;
    private readonly IDisposable _deletePrefixAtExit;
    private ChildProcess? _master;
    private bool _portConfirmed;
    private bool _disposed;
    private readonly bool _proxyProtocol;
    private readonly int[] _httpUpstreamPorts;

    /// <summary>nginx.conf's per-address cap (<c>limit_conn</c>), the default here too.</summary>
    public const int DefaultConnectionsPerAddress = 200;

    /// <summary>Writes the config for <paramref name="upstreamPorts"/> (127.0.0.1:port each) and picks a port;
    /// nothing runs until <see cref="StartAsync"/>. With <paramref name="proxyProtocol"/>, nginx tells the upstream
    /// who the client is with a PROXY protocol line (<c>proxy_protocol on</c>). With <paramref name="httpUpstreamPorts"/>
    /// (the replicas' HTTP ports), the http server runs too, on <see cref="HttpPort"/>.</summary>
    public NginxServer(
        IEnumerable<int> upstreamPorts, bool proxyProtocol = false, IEnumerable<int>? httpUpstreamPorts = null, int connectionsPerAddress = DefaultConnectionsPerAddress)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(connectionsPerAddress, 1);
        ConnectionsPerAddress = connectionsPerAddress;
        UpstreamPorts = Validate(upstreamPorts);
        _proxyProtocol = proxyProtocol;
        _httpUpstreamPorts = httpUpstreamPorts is null ? [] : Validate(httpUpstreamPorts);
        _binary = Executable.Require("nginx", "apt-get install nginx-light libnginx-mod-stream", "/usr/sbin");
        _prefix = Directory.CreateTempSubdirectory("chat-tests-nginx-");
        _deletePrefixAtExit = OrphanReaper.Register("rm -rf " + OrphanReaper.Quote(_prefix.FullName));
        Port = FreePort.Next();
        HttpPort = _httpUpstreamPorts.Length > 0 ? FreePort.Next() : 0;
    }

    /// <summary>Connections one client address may hold at once on each port (<c>limit_conn</c>); beyond, nginx closes them.</summary>
    public int ConnectionsPerAddress { get; }

    /// <summary>The port clients connect to (127.0.0.1).</summary>
    public int Port { get; private set; }

    /// <summary>The http server's port (127.0.0.1): <c>/</c> and <c>/ws</c>; 0 without HTTP upstreams.</summary>
    public int HttpPort { get; private set; }

    /// <summary>The upstream ports of the current configuration.</summary>
    public IReadOnlyList<int> UpstreamPorts { get; private set; }

    public string PrefixDirectory => _prefix.FullName;

    public string ConfigPath => Path.Combine(_prefix.FullName, "nginx.conf");

    public string ErrorLogPath => Path.Combine(_prefix.FullName, "error.log");

    /// <summary>Pid of the nginx master process, or null when stopped.</summary>
    public int? ProcessId => _master is { HasExited: false } m ? m.Id : null;

    public bool IsRunning => _master is { HasExited: false };

    /// <summary>Creates and starts an nginx in front of <paramref name="upstreamPorts"/>.</summary>
    public static async Task<NginxServer> StartNewAsync(
        IEnumerable<int> upstreamPorts, bool proxyProtocol = false, IEnumerable<int>? httpUpstreamPorts = null, int connectionsPerAddress = DefaultConnectionsPerAddress)
    {
        var server = new NginxServer(upstreamPorts, proxyProtocol, httpUpstreamPorts, connectionsPerAddress);
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

    /// <summary>Starts nginx (master + one worker) and returns once it listens and its worker runs.
    /// Readiness is checked without connecting, so no probe connection ever reaches an upstream.</summary>
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

            for (var attempt = 1; ; attempt++)
            {
                WriteConfig();
                var logLength = LogLength();
                var master = ChildProcess.Start(_binary, CommandArguments(), _prefix.FullName, orphanCleanup: OrphanCleanup);
                try
                {
                    await WaitUntilReadyAsync(master, logLength);
                    _master = master;
                    _portConfirmed = true;
                    return;
                }
                catch (InvalidOperationException e) when (!_portConfirmed && attempt < 5 && e.Message.Contains("in use", StringComparison.OrdinalIgnoreCase))
                {
                    master.Dispose();
                    Port = FreePort.Next();
                    HttpPort = HttpPort == 0 ? 0 : FreePort.Next();
                }
                catch
                {
                    master.Dispose();
                    throw;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Re-reads the configuration (<c>nginx -s reload</c>) and returns once a new worker runs and the
    /// old one has begun its graceful shutdown, i.e. new connections use the new configuration. Connections
    /// already open stay on the old worker and their old upstream.</summary>
    public Task ReloadAsync() => ReloadAsync(UpstreamPorts);

    /// <summary>Rewrites the upstream list, then reloads as <see cref="ReloadAsync()"/>.</summary>
    public async Task ReloadAsync(IEnumerable<int> upstreamPorts)
    {
        var ports = Validate(upstreamPorts);
        await _gate.WaitAsync();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var master = _master is { HasExited: false } m ? m : throw new InvalidOperationException("nginx is not running.");
            UpstreamPorts = ports;
            WriteConfig();
            var log = ReadLog(0);
            var started = Count(log, WorkerStarted);
            var retiring = Count(log, WorkerRetiring);
            (await ChildProcess.RunAsync(_binary, [.. CommandArguments(), "-s", "reload"], StartTimeout, _prefix.FullName)).EnsureSuccess();
            await Wait.UntilAsync(
                () =>
                {
                    ThrowIfExited(master);
                    var now = ReadLog(0);
                    return Count(now, WorkerStarted) > started && Count(now, WorkerRetiring) > retiring;
                },
                StartTimeout,
                $"nginx (pid {master.Id}) to start a new worker and retire the old one after reload (see {ErrorLogPath})");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops nginx (<c>nginx -s stop</c>: SIGTERM to our master by its pid file) and waits until master
    /// and workers are gone; kills the process tree if they outlive the deadline.</summary>
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
            _prefix.Delete(recursive: true);
            _deletePrefixAtExit.Dispose();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The error log so far (notice level: worker starts, upstream failures, config errors).</summary>
    public string ReadErrorLog() => ReadLog(0);

    private static int[] Validate(IEnumerable<int> upstreamPorts)
    {
        ArgumentNullException.ThrowIfNull(upstreamPorts);
        var ports = upstreamPorts.ToArray();
        if (ports.Length == 0)
        {
            throw new ArgumentException("nginx needs at least one upstream port.", nameof(upstreamPorts));
        }

        if (ports.Any(p => p is <= 0 or > 65535))
        {
            throw new ArgumentOutOfRangeException(nameof(upstreamPorts), "Upstream ports must be in 1..65535.");
        }

        return ports;
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    [GeneratedRegex(@"\[emerg\][^\n]*")]
    private static partial Regex EmergLine();

    /// <summary>SIGTERM is nginx's fast shutdown: the master stops its workers, then exits. (SIGKILL on the master
    /// would leave its workers running, still listening.)</summary>
    private static string OrphanCleanup(int masterPid) => $"""
        kill -TERM {masterPid}
        i=0
        while kill -0 {masterPid} && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
        kill -KILL {masterPid}
        """;

    private string[] CommandArguments() => ["-p", _prefix.FullName + "/", "-c", ConfigPath, "-e", ErrorLogPath];

    private void WriteConfig()
    {
        var c = CultureInfo.InvariantCulture;
        var config = new StringBuilder();
        if (File.Exists(StreamModule))
        {
            // Debian builds the stream module as a dynamic module (libnginx-mod-stream); builds with it
            // compiled in have no such file and need no load_module.
            config.Append(c, $"load_module {StreamModule};\n");
        }

        config.Append(c, $$"""
            daemon off;
            master_process on;
            worker_processes 1;
            worker_rlimit_nofile 20000;
            pid {{Path.Combine(_prefix.FullName, "nginx.pid")}};
            error_log {{ErrorLogPath}} notice;

            events {
                worker_connections 19500;
            }

            stream {
                limit_conn_zone $binary_remote_addr zone=chat_per_address:10m;
                limit_conn_log_level info;

                upstream chat {
                    least_conn;

            """);
        foreach (var port in UpstreamPorts)
        {
            config.Append(c, $"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;\n");
        }

        config.Append(c, $$"""
                }

                server {
                    listen 127.0.0.1:{{Port}};
                    proxy_pass chat;
                    limit_conn chat_per_address {{ConnectionsPerAddress}};
                    proxy_connect_timeout 1s;
                    proxy_timeout 10m;
                    proxy_half_close on;
                    proxy_protocol {{(_proxyProtocol ? "on" : "off")}};
                }
            }

            """);
        if (_httpUpstreamPorts.Length > 0)
        {
            AppendHttp(config);
        }

        File.WriteAllText(ConfigPath, config.ToString());
    }

    /// <summary>The http server of production's nginx.conf, its temporary files in the prefix (Debian's default is /var/lib/nginx).</summary>
    private void AppendHttp(StringBuilder config)
    {
        var c = CultureInfo.InvariantCulture;
        var temp = Directory.CreateDirectory(Path.Combine(_prefix.FullName, "temp")).FullName;
        config.Append(c, $$"""
            http {
                client_body_temp_path {{temp}}/body;
                proxy_temp_path {{temp}}/proxy;
                fastcgi_temp_path {{temp}}/fastcgi;
                uwsgi_temp_path {{temp}}/uwsgi;
                scgi_temp_path {{temp}}/scgi;
                access_log off;

                upstream chat_http {
                    least_conn;

            """);
        foreach (var port in _httpUpstreamPorts)
        {
            config.Append(c, $"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;\n");
        }

        config.Append(c, $$"""
                }

                limit_conn_zone $binary_remote_addr zone=ws_per_address:10m;
                limit_conn_status 429;
                limit_conn_log_level info;

                map $http_upgrade $connection_upgrade {
                    default upgrade;
                    ''      close;
                }

                server {
                    listen 127.0.0.1:{{HttpPort}};
                    proxy_http_version 1.1;
                    proxy_connect_timeout 1s;
                    proxy_set_header Host $host;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;

                    location = /ws {
                        limit_conn ws_per_address {{ConnectionsPerAddress}};
                        proxy_pass http://chat_http;
                        proxy_set_header Host $host;
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header Upgrade $http_upgrade;
                        proxy_set_header Connection $connection_upgrade;
                        proxy_read_timeout 10m;
                        proxy_send_timeout 10m;
                        proxy_buffering off;
                    }

                    location ^~ /admin { return 404; }
                    location /files {
                        proxy_pass http://chat_http;
                        client_max_body_size 20m;
                        proxy_request_buffering off;
                    }

                    location / {
                        proxy_pass http://chat_http;
                    }
                }
            }

            """);
    }

    private long LogLength()
    {
        var file = new FileInfo(ErrorLogPath);
        return file.Exists ? file.Length : 0;
    }

    private string ReadLog(long from)
    {
        try
        {
            using var stream = new FileStream(ErrorLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Min(from, stream.Length), SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }

    private void ThrowIfExited(ChildProcess master)
    {
        if (master.HasExited)
        {
            var log = ReadLog(0);
            var emerg = EmergLine().Match(log);
            throw new InvalidOperationException(
                $"nginx exited with code {master.ExitCode}{(emerg.Success ? ": " + emerg.Value : "")}.\n" +
                $"{master.CommandLine}\n{master.Output}\n--- {ErrorLogPath} ---\n{log}\n--- {ConfigPath} ---\n{File.ReadAllText(ConfigPath)}");
        }
    }

    private async Task WaitUntilReadyAsync(ChildProcess master, long logStart)
    {
        await Wait.UntilAsync(
            () =>
            {
                ThrowIfExited(master);
                return LoopbackTcp.IsListening(Port) && (HttpPort == 0 || LoopbackTcp.IsListening(HttpPort))
                    && ReadLog(logStart).Contains(WorkerStarted, StringComparison.Ordinal);
            },
            StartTimeout,
            $"nginx (pid {master.Id}) to listen on 127.0.0.1:{Port} and start its worker (see {ErrorLogPath})");
    }

    private async Task StopCoreAsync()
    {
        var master = _master;
        _master = null;
        if (master is null)
        {
            return;
        }

        if (!master.HasExited)
        {
            var stop = await ChildProcess.RunAsync(_binary, [.. CommandArguments(), "-s", "stop"], StopTimeout, _prefix.FullName);
            if (stop.ExitCode != 0)
            {
                master.Kill(entireProcessTree: true);
            }
        }

        try
        {
            await master.WaitForExitAsync(StopTimeout);
        }
        catch (TimeoutException)
        {
            master.Kill(entireProcessTree: true);
            await master.WaitForExitAsync(StopTimeout);
        }

        master.Dispose();
        await Wait.UntilAsync(() => !LoopbackTcp.IsListening(Port) && (HttpPort == 0 || !LoopbackTcp.IsListening(HttpPort)), StopTimeout, $"nginx on port {Port} to stop listening");
    }
}
