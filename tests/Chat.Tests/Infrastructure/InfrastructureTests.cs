using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Chat.Tests.Infrastructure;

public sealed class WaitTests
{
    [Fact]
    public async Task UntilAsync_returns_once_the_condition_holds()
    {
        var calls = 0;
        await Wait.UntilAsync(() => ++calls >= 3, TimeSpan.FromSeconds(5), "three calls");
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task UntilAsync_throws_a_timeout_that_names_what_it_waited_for()
    {
        var e = await Assert.ThrowsAsync<TimeoutException>(
            () => Wait.UntilAsync(() => Task.FromResult(false), TimeSpan.FromMilliseconds(50), "the moon to turn blue"));
        Assert.Contains("the moon to turn blue", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UntilAsync_propagates_what_the_condition_throws()
    {
        Func<bool> boom = () => throw new InvalidOperationException("boom");
        await Assert.ThrowsAsync<InvalidOperationException>(() => Wait.UntilAsync(boom, TimeSpan.FromSeconds(5), "anything"));
    }
}

public sealed class FreePortTests
{
    [Fact]
    public void Next_hands_out_distinct_bindable_loopback_ports()
    {
        var ports = Enumerable.Range(0, 20).Select(_ => FreePort.Next()).ToArray();
        Assert.Equal(ports.Length, ports.Distinct().Count());
        foreach (var port in ports)
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            Assert.True(LoopbackTcp.IsListening(port));
            listener.Stop();
        }
    }
}

public sealed class PostgresServerTests
{
    [Fact]
    public async Task Creates_separate_databases_that_answer_queries()
    {
        var pg = await PostgresServer.StartedAsync();
        Assert.Same(pg, await PostgresServer.StartedAsync());

        var first = await pg.CreateDatabaseAsync("infra-Test!");
        var second = await pg.CreateDatabaseAsync("infra-Test!");
        Assert.NotEqual(first, second);

        var names = new List<string>();
        foreach (var connectionString in new[] { first.ConnectionString, second.ConnectionString })
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT 1, current_database()", connection);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(1, reader.GetInt32(0));
            names.Add(reader.GetString(1));
        }

        Assert.All(names, n => Assert.StartsWith("infra_test__", n, StringComparison.Ordinal));
        Assert.NotEqual(names[0], names[1]);
        Assert.Equal(new NpgsqlConnectionStringBuilder(first.ConnectionString).Database, names[0]);
    }

    [Fact]
    public async Task Tables_in_one_database_are_invisible_in_another()
    {
        var pg = await PostgresServer.StartedAsync();
        var first = await pg.CreateDatabaseAsync("isolation");
        var second = await pg.CreateDatabaseAsync("isolation");

        await using (var connection = new NpgsqlConnection(first.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE only_here (id int)", connection);
            await create.ExecuteNonQueryAsync();
        }

        await using var other = new NpgsqlConnection(second.ConnectionString);
        await other.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'", other);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Database_names_are_valid_identifiers_even_for_long_prefixes()
    {
        var pg = await PostgresServer.StartedAsync();
        var connectionString = (await pg.CreateDatabaseAsync(new string('x', 100))).ConnectionString;
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        Assert.True(name.Length <= 63, name);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
    }
}

public sealed class MariaDbServerTests
{
    [Fact]
    public async Task Creates_separate_utf8mb4_databases_and_comes_back_on_the_same_port_after_a_stop()
    {
        await using var mariadb = await MariaDbServer.StartNewAsync();
        var first = await mariadb.CreateDatabaseAsync("infra-Test!");
        var second = await mariadb.CreateDatabaseAsync("infra-Test!");
        await first.ScalarAsync("CREATE TABLE only_here (id int)");

        Assert.NotEqual(first.ConnectionString, second.ConnectionString);
        Assert.Equal(0, await second.ScalarAsync("SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'only_here'"));
        Assert.Equal(1, await first.ScalarAsync("SELECT @@character_set_database = 'utf8mb4' AND @@collation_database = 'utf8mb4_bin'"));

        var port = mariadb.Port;
        await mariadb.StopAsync();
        Assert.False(LoopbackTcp.IsListening(port));
        await mariadb.RestartAsync();
        Assert.Equal(port, mariadb.Port);
        Assert.Equal(0, await first.ScalarAsync("SELECT count(*) FROM only_here"));
    }
}

public sealed class RedisServerTests
{
    [Fact]
    public async Task Answers_ping_over_raw_tcp()
    {
        await using var redis = await RedisServer.StartNewAsync();
        Assert.True(redis.IsRunning);
        Assert.Equal($"127.0.0.1:{redis.Port}", redis.ConnectionString);
        Assert.Equal("+PONG\r\n", await SendAsync(redis.Port, "PING\r\n", "+PONG\r\n".Length));
    }

    [Fact]
    public async Task Restart_keeps_the_port_and_runs_a_new_empty_server()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var port = redis.Port;
        var pid = redis.ProcessId;
        Assert.Equal("+OK\r\n", await SendAsync(port, "SET k v\r\n", "+OK\r\n".Length));

        await redis.RestartAsync();

        Assert.Equal(port, redis.Port);
        Assert.NotEqual(pid, redis.ProcessId);
        Assert.Equal("$-1\r\n", await SendAsync(port, "GET k\r\n", "$-1\r\n".Length));
    }

    [Fact]
    public async Task Stop_closes_the_port_and_dispose_after_stop_is_fine()
    {
        var redis = await RedisServer.StartNewAsync();
        await redis.StopAsync();
        Assert.False(redis.IsRunning);
        Assert.False(await LoopbackTcp.CanConnectAsync(redis.Port));
        await redis.DisposeAsync();
        await redis.DisposeAsync();
    }

    [Fact]
    public async Task Two_servers_get_different_ports()
    {
        await using var a = await RedisServer.StartNewAsync();
        await using var b = await RedisServer.StartNewAsync();
        Assert.NotEqual(a.Port, b.Port);
        Assert.True(await RedisServer.PingAsync(a.Port));
        Assert.True(await RedisServer.PingAsync(b.Port));
    }

    private static async Task<string> SendAsync(int port, string request, int expectedLength)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        return await ReadExactlyAsync(stream, expectedLength);
    }

    internal static async Task<string> ReadExactlyAsync(Stream stream, int length)
    {
        var buffer = new byte[length];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await stream.ReadExactlyAsync(buffer, cts.Token);
        return Encoding.ASCII.GetString(buffer);
    }
}

public sealed class NginxServerTests
{
    [Fact]
    public async Task Proxies_tcp_to_an_upstream()
    {
        await using var echo = EchoServer.Start("A");
        await using var nginx = await NginxServer.StartNewAsync([echo.Port]);
        Assert.True(nginx.IsRunning);
        Assert.NotEqual(echo.Port, nginx.Port);

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, nginx.Port);
        var stream = client.GetStream();
        await stream.WriteAsync("hello\n"u8.ToArray());
        Assert.Equal("A:hello\n", await RedisServerTests.ReadExactlyAsync(stream, "A:hello\n".Length));
    }

    [Fact]
    public async Task Balances_least_connections_and_reload_switches_upstreams()
    {
        await using var a = EchoServer.Start("A");
        await using var b = EchoServer.Start("B");
        await using var nginx = await NginxServer.StartNewAsync([a.Port, b.Port]);

        // least_conn: while the first connection stays open, the second goes to the other upstream.
        using var first = await ConnectAsync(nginx.Port);
        var servedFirst = await WhoAnswersAsync(first);
        using var second = await ConnectAsync(nginx.Port);
        var served = new[] { servedFirst, await WhoAnswersAsync(second) };
        Assert.Equal(["A", "B"], served.Order());

        await nginx.ReloadAsync([b.Port]);
        Assert.Equal([b.Port], nginx.UpstreamPorts);
        for (var i = 0; i < 3; i++)
        {
            using var client = await ConnectAsync(nginx.Port);
            Assert.Equal("B", await WhoAnswersAsync(client));
        }

        // Connections opened before the reload keep working.
        Assert.Equal(served[0], await WhoAnswersAsync(first));
    }

    [Fact]
    public async Task Stop_releases_the_port()
    {
        await using var echo = EchoServer.Start("A");
        var nginx = await NginxServer.StartNewAsync([echo.Port]);
        var prefix = nginx.PrefixDirectory;
        await nginx.StopAsync();
        Assert.False(nginx.IsRunning);
        Assert.False(LoopbackTcp.IsListening(nginx.Port));
        await nginx.DisposeAsync();
        Assert.False(Directory.Exists(prefix));
    }

    [Fact]
    public void Rejects_an_empty_upstream_list() =>
        Assert.Throws<ArgumentException>(() => new NginxServer([]));

    private static async Task<TcpClient> ConnectAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        return client;
    }

    private static async Task<string> WhoAnswersAsync(TcpClient client)
    {
        var stream = client.GetStream();
        await stream.WriteAsync("x\n"u8.ToArray());
        var reply = await RedisServerTests.ReadExactlyAsync(stream, "?:x\n".Length);
        Assert.EndsWith(":x\n", reply, StringComparison.Ordinal);
        return reply[..1];
    }

    /// <summary>Loopback TCP server that answers each line with "NAME:line".</summary>
    private sealed class EchoServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _acceptLoop;
        private readonly List<TcpClient> _clients = [];

        private EchoServer(string name)
        {
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _acceptLoop = AcceptAsync(name);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static EchoServer Start(string name) => new(name);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _acceptLoop;
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }

            lock (_clients)
            {
                _clients.ForEach(c => c.Dispose());
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync(string name)
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_clients)
                {
                    _clients.Add(client);
                }

                _ = ServeAsync(client, name);
            }
        }

        private async Task ServeAsync(TcpClient client, string name)
        {
            try
            {
                using var reader = new StreamReader(client.GetStream(), Encoding.ASCII, leaveOpen: true);
                var stream = client.GetStream();
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"{name}:{line}\n"), _stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // Client or server went away.
            }
        }
    }
}
