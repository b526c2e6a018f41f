using System.Globalization;
using Npgsql;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// One throwaway PostgreSQL cluster for the whole test process, started on first use: a fresh data directory
/// under /tmp, its own loopback port and socket directory, trust authentication for user <c>postgres</c>.
/// Tests isolate themselves with <see cref="CreateDatabaseAsync"/>, one fresh database each. The cluster is
/// stopped (<c>pg_ctl stop -m immediate</c>) and its directory deleted after the test process exits (see <see cref="OrphanReaper"/>).
/// PostgreSQL refuses to run as root, so under root every PostgreSQL binary runs as the <c>postgres</c> OS user
/// (created by Debian's postgresql package) through <c>runuser</c>.
/// </summary>
/// <example><code>
/// var pg = await PostgresServer.StartedAsync();
/// var connectionString = await pg.CreateDatabaseAsync("login");
/// </code></example>
public sealed class PostgresServer
{
    private const string OsUser = "postgres";
    private const string Superuser = "postgres";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartNewAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _binDirectory;
    private readonly string? _runuser;

    private PostgresServer(string binDirectory, string? runuser, string rootDirectory)
    {
        _binDirectory = binDirectory;
        _runuser = runuser;
        RootDirectory = rootDirectory;
    }

    /// <summary>The port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>Temp directory holding data/, sock/ and postgres.log; deleted at process exit.</summary>
    public string RootDirectory { get; }

    public string DataDirectory => Path.Combine(RootDirectory, "data");

    public string SocketDirectory => Path.Combine(RootDirectory, "sock");

    public string LogPath => Path.Combine(RootDirectory, "postgres.log");

    /// <summary>Connection string for the <c>postgres</c> maintenance database, as superuser.</summary>
    public string AdminConnectionString => ConnectionStringFor("postgres");

    /// <summary>The process-wide cluster, started on first call (every caller awaits the same start; a failed
    /// start fails every caller with the same exception).</summary>
    public static Task<PostgresServer> StartedAsync() => Shared.Value;

    /// <summary>Creates a new, empty database named <paramref name="prefix"/>_&lt;unique suffix&gt; and returns it.</summary>
    public async Task<TestDatabase> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var name = DatabaseName.From(prefix);
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE DATABASE \"" + name + "\"";
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new TestDatabase("postgres", ConnectionStringFor(name));
    }

    /// <summary>Npgsql connection string for <paramref name="database"/> on this cluster.</summary>
    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Database = database,
    }.ConnectionString;

    /// <summary>A cluster of the caller's own, for a test that stops and starts it; cleaned up like the shared one.</summary>
    public static async Task<PostgresServer> StartNewAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The PostgreSQL test fixture runs the Debian/Linux PostgreSQL binaries.");
        }

        var binDirectory = FindBinDirectory();
        string? runuser = null;
        if (Executable.RunningAsRoot)
        {
            runuser = Executable.Require("runuser", "apt-get install util-linux", "/usr/sbin", "/sbin");
        }

        // /tmp rather than $TMPDIR: the postgres OS user must be able to reach it.
        var tempRoot = Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath();
        var root = Path.Combine(tempRoot, "chat-tests-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var server = new PostgresServer(binDirectory, runuser, root);

        // Stopped and deleted once the test process is gone (not in a ProcessExit handler: vstest kills the test
        // host ~100 ms after the run, before pg_ctl could finish). A failed start is cleaned up the same way.
        var (pgCtl, stopArgs) = server.Command("pg_ctl", ["stop", "-D", server.DataDirectory, "-m", "immediate", "-w", "-t", "30"]);
        OrphanReaper.Register($"""
            if [ -f {OrphanReaper.Quote(Path.Combine(server.DataDirectory, "postmaster.pid"))} ]; then
                {string.Join(' ', stopArgs.Prepend(pgCtl).Select(OrphanReaper.Quote))}
            fi
            rm -rf {OrphanReaper.Quote(root)}
            """);
        await server.InitAsync();
        await server.StartAsync(port: null);
        return server;
    }

    /// <summary>Stops the cluster (<c>pg_ctl stop -m fast</c>): every connection is cut.</summary>
    public async Task StopAsync() =>
        await RunPgAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "30"]);

    /// <summary>Starts the stopped cluster again on the same port.</summary>
    public Task RestartAsync() => StartAsync(Port);

    /// <summary>Highest /usr/lib/postgresql/N/bin with initdb, else the directory of initdb on PATH.</summary>
    private static string FindBinDirectory()
    {
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var best = Directory.GetDirectories(debianRoot)
                .Select(d => (Dir: d, Version: decimal.TryParse(Path.GetFileName(d), NumberStyles.Number, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(x => x.Version >= 0 && File.Exists(Path.Combine(x.Dir, "bin", "initdb")) && File.Exists(Path.Combine(x.Dir, "bin", "pg_ctl")))
                .OrderByDescending(x => x.Version)
                .Select(x => Path.Combine(x.Dir, "bin"))
                .FirstOrDefault();
            if (best is not null)
            {
                return best;
            }
        }

        var initdb = Executable.Require("initdb", "apt-get install postgresql");
        var directory = Path.GetDirectoryName(initdb)!;
        _ = Executable.Require("pg_ctl", "apt-get install postgresql", directory);
        return directory;
    }

    private async Task InitAsync()
    {
        Directory.CreateDirectory(SocketDirectory);
        if (_runuser is not null)
        {
            // The cluster's files must belong to the OS user that runs the server.
            var chown = Executable.Require("chown", "coreutils", "/usr/bin", "/bin");
            var result = await ChildProcess.RunAsync(chown, ["-R", OsUser + ":", RootDirectory], CommandTimeout);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"Running as root, PostgreSQL must run as the '{OsUser}' OS user, but chown to it failed " +
                    $"(does the user exist? Debian's postgresql package creates it):\n{result.Output}");
            }
        }

        await RunPgAsync("initdb", [
            "-D", DataDirectory,
            "-U", Superuser,
            "-A", "trust",
            "-E", "UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
        ]);
    }

    private async Task StartAsync(int? port)
    {
        // FreePort may hand out a port another process takes before the postmaster binds it: retry then.
        for (var attempt = 1; ; attempt++)
        {
            Port = port ?? FreePort.Next();
            var options = string.Join(' ', [
                "-p", Port.ToString(CultureInfo.InvariantCulture),
                "-k", SocketDirectory,
                "-c", "listen_addresses=127.0.0.1",
                "-c", "max_connections=300",
                // Test data need not survive an OS crash: skip fsync for speed.
                "-c", "fsync=off",
                "-c", "full_page_writes=off",
            ]);
            var start = await RunPgAsync("pg_ctl", ["start", "-D", DataDirectory, "-l", LogPath, "-w", "-t", "60", "-o", options], throwOnError: false);
            if (start.ExitCode == 0)
            {
                break;
            }

            var log = ReadLog();
            if (port is null && attempt < 5 && log.Contains("already in use", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            throw new InvalidOperationException(
                $"PostgreSQL did not start (exit code {start.ExitCode}): {start.CommandLine}\n{start.Output}\n--- {LogPath} ---\n{log}");
        }

        // pg_ctl -w already waited for the socket; make sure TCP and a real query work too.
        await Wait.UntilAsync(
            async () =>
            {
                try
                {
                    await using var connection = new NpgsqlConnection(AdminConnectionString + ";Pooling=false;Timeout=2");
                    await connection.OpenAsync();
                    await using var command = new NpgsqlCommand("SELECT 1", connection);
                    return (int)(await command.ExecuteScalarAsync())! == 1;
                }
                catch (NpgsqlException)
                {
                    return false;
                }
            },
            CommandTimeout,
            $"PostgreSQL on 127.0.0.1:{Port} to answer SELECT 1 (log: {LogPath})");
    }

    private async Task<CommandResult> RunPgAsync(string tool, IEnumerable<string> arguments, bool throwOnError = true)
    {
        var (file, args) = Command(tool, arguments);
        var result = await ChildProcess.RunAsync(file, args, CommandTimeout, RootDirectory);
        return throwOnError ? result.EnsureSuccess() : result;
    }

    private (string File, IEnumerable<string> Arguments) Command(string tool, IEnumerable<string> arguments)
    {
        var binary = Path.Combine(_binDirectory, tool);
        return _runuser is null ? (binary, arguments) : (_runuser, ["-u", OsUser, "--", binary, .. arguments]);
    }

    private string ReadLog()
    {
        try
        {
            return File.ReadAllText(LogPath);
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}
