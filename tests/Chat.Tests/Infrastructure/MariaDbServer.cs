using System.Globalization;
using MySqlConnector;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// One throwaway MariaDB server (Debian's mariadb-server: the project's MySQL) for the whole test process, started
/// on first use, like <see cref="PostgresServer"/>: a fresh data directory under /tmp made by mariadb-install-db,
/// mariadbd on its own loopback port and socket, root without a password. Tests isolate themselves with
/// <see cref="CreateDatabaseAsync"/>, one fresh database each. The server is killed and its directory deleted
/// after the test process exits (see <see cref="OrphanReaper"/>).
/// </summary>
/// <example><code>
/// var mariadb = await MariaDbServer.StartedAsync();
/// var database = await mariadb.CreateDatabaseAsync("login");   // a TestDatabase, provider "mysql"
/// </code></example>
public sealed class MariaDbServer : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<Task<MariaDbServer>> Shared = new(StartNewAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _mariadbd;
    private ChildProcess? _process;

    private MariaDbServer(string mariadbd, string rootDirectory)
    {
        _mariadbd = mariadbd;
        RootDirectory = rootDirectory;
    }

    /// <summary>The port on 127.0.0.1; kept across <see cref="RestartAsync"/>.</summary>
    public int Port { get; private set; }

    /// <summary>Temp directory holding data/, the socket and the error log; deleted at process exit.</summary>
    public string RootDirectory { get; }

    public string DataDirectory => Path.Combine(RootDirectory, "data");

    public string LogPath => Path.Combine(RootDirectory, "mariadb.log");

    public string AdminConnectionString => ConnectionStringFor("");

    /// <summary>The process-wide server, started on first call.</summary>
    public static Task<MariaDbServer> StartedAsync() => Shared.Value;

    /// <summary>A server of the caller's own, for a test that stops and starts it; cleaned up like the shared one.</summary>
    public static async Task<MariaDbServer> StartNewAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The MariaDB test fixture runs Debian's mariadb-server binaries.");
        }

        const string hint = "apt-get install mariadb-server (scripts/test.sh does)";
        var mariadbd = Executable.Require("mariadbd", hint, "/usr/sbin");
        var installDb = Executable.Require("mariadb-install-db", hint, "/usr/bin");
        var root = Path.Combine(Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath(), "chat-tests-mariadb-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        OrphanReaper.Register($"rm -rf {OrphanReaper.Quote(root)}");
        var server = new MariaDbServer(mariadbd, root);
        (await ChildProcess.RunAsync(installDb, [
            "--no-defaults",
            "--datadir=" + server.DataDirectory,
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            .. UserArguments(),
        ], CommandTimeout, root)).EnsureSuccess();
        await server.StartAsync(port: null);
        return server;
    }

    /// <summary>Creates a new, empty database and returns it.</summary>
    public async Task<TestDatabase> CreateDatabaseAsync(string prefix)
    {
        var name = DatabaseName.From(prefix);
        await using var connection = new MySqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin";
        await command.ExecuteNonQueryAsync();
        return new TestDatabase("mysql", ConnectionStringFor(name));
    }

    public string ConnectionStringFor(string database) => new MySqlConnectionStringBuilder
    {
        Server = "127.0.0.1",
        Port = (uint)Port,
        UserID = "root",
        Database = database,
    }.ConnectionString;

    /// <summary>Stops the server (SIGTERM, by pid: a clean shutdown) and waits until it is gone: every connection is cut.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        var kill = Executable.Require("kill", "apt-get install procps", "/usr/bin", "/bin");
        (await ChildProcess.RunAsync(kill, ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)], CommandTimeout)).EnsureSuccess();
        await process.WaitForExitAsync(CommandTimeout, killOnTimeout: true);
        process.Dispose();
    }

    /// <summary>Starts the stopped server again on the same port.</summary>
    public Task RestartAsync() => StartAsync(Port);

    public async ValueTask DisposeAsync() => await StopAsync();

    private static string[] UserArguments() => Executable.RunningAsRoot ? ["--user=root"] : [];

    private async Task StartAsync(int? port)
    {
        // FreePort may hand out a port another process takes before mariadbd binds it: retry then.
        for (var attempt = 1; ; attempt++)
        {
            Port = port ?? FreePort.Next();
            var process = ChildProcess.Start(_mariadbd, [
                "--no-defaults",
                "--datadir=" + DataDirectory,
                "--port=" + Port.ToString(CultureInfo.InvariantCulture),
                "--socket=" + Path.Combine(RootDirectory, "mariadb.sock"),
                "--pid-file=" + Path.Combine(RootDirectory, "mariadb.pid"),
                "--log-error=" + LogPath,
                "--bind-address=127.0.0.1",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_bin",
                "--max-connections=500",
                "--innodb-buffer-pool-size=64M",
                // Test data need not survive an OS crash: flush the log once a second, not at each commit.
                "--innodb-flush-log-at-trx-commit=2",
                "--skip-log-bin",
                "--skip-performance-schema",
                .. UserArguments(),
            ], RootDirectory, orphanCleanup: pid => $"kill -KILL {pid}");
            try
            {
                await Wait.UntilAsync(
                    async () => process.HasExited
                        ? throw new InvalidOperationException($"mariadbd exited with {process.ExitCode}: {process.CommandLine}\n--- {LogPath} ---\n{ReadLog()}")
                        : await AnswersAsync(),
                    CommandTimeout,
                    $"MariaDB on 127.0.0.1:{Port} to answer SELECT 1 (log: {LogPath})");
                _process = process;
                return;
            }
            catch (InvalidOperationException) when (port is null && attempt < 5 && ReadLog().Contains("already in use", StringComparison.OrdinalIgnoreCase))
            {
                process.Dispose();
            }
            catch
            {
                process.Dispose();
                throw;
            }
        }
    }

    private async Task<bool> AnswersAsync()
    {
        try
        {
            await using var connection = new MySqlConnection(AdminConnectionString + ";Pooling=false;Connection Timeout=2");
            await connection.OpenAsync();
            await using var command = new MySqlCommand("SELECT 1", connection);
            return Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture) == 1;
        }
        catch (MySqlException)
        {
            return false;
        }
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
    }
}
