using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Chat.Domain;
using Chat.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using Npgsql;

namespace Chat.Benchmarks;

/// <summary>
/// The batching message writer alone, closed loop: <see cref="Senders"/> senders each append their next message
/// once the previous one is committed (durable), <see cref="Messages"/> messages per invocation in all. BenchmarkDotNet's
/// Mean is then the time per durable message; the extra columns give messages/s and each append's p50 and p99.
/// MySQL and PostgreSQL come from CHAT_BENCH_MYSQL and CHAT_BENCH_POSTGRES (server connection strings; a fresh
/// database is created per case); SQLite is a temp file. benchmarks/writer.sh starts both servers with durable settings.
/// </summary>
[Config(typeof(Config))]
public class WriterBenchmarks
{
    public const int Messages = 2_000;

    private static readonly ConcurrentDictionary<string, List<double>> LatenciesByCase = new();

    private IHost _host = null!;
    private IMessageWriter _writer = null!;
    private List<double> _latencies = null!;
    private int _iteration;
    private int _nextUser;

    [Params("mysql", "postgres", "sqlite")]
    public string Provider { get; set; } = "";

    [Params(1, 50, 200)]
    public int Senders { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _host = StartStore(Provider);
        _writer = _host.Services.GetRequiredService<IMessageWriter>();
        _latencies = LatenciesByCase.GetOrAdd(Key(Provider, Senders), _ => []);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
    }

    [IterationSetup]
    public void NextIteration() => _iteration++;

    [Benchmark(OperationsPerInvoke = Messages)]
    public async Task DurableAppends()
    {
        var record = _iteration > 1; // the first iteration warms up
        var perSender = Messages / Senders;
        var first = Interlocked.Add(ref _nextUser, 2 * Senders) - (2 * Senders) + 1;
        var latencies = await Task.WhenAll(Enumerable.Range(0, Senders).Select(i => Task.Run(async () =>
        {
            var sender = first + (2 * i);
            var conversation = ConversationId.Direct(sender, sender + 1);
            var mine = new double[perSender];
            for (var n = 0; n < perSender; n++)
            {
                var started = Stopwatch.GetTimestamp();
                await _writer.AppendAsync(new ChatMessage(conversation, sender, "bench", sender + 1, "sixty-four bytes of text, give or take, like a short chat message", "t", 0, null), CancellationToken.None);
                mine[n] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            return mine;
        })));
        if (record)
        {
            _latencies.AddRange(latencies.SelectMany(l => l));
        }
    }

    private static List<double>? Recorded(BenchmarkCase benchmarkCase) =>
        LatenciesByCase.GetValueOrDefault(Key((string)benchmarkCase.Parameters["Provider"], (int)benchmarkCase.Parameters["Senders"]));

    private static string Key(string provider, int senders) => provider + "/" + senders.ToString(CultureInfo.InvariantCulture);

    /// <summary>The persistence layer alone, as a replica registers it, on a fresh database of the engine: started.</summary>
    internal static IHost StartStore(string provider)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chat:Store:Provider"] = provider,
            ["ConnectionStrings:Chat"] = CreateDatabase(provider),
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddChatPersistence();
        var host = builder.Build();
        host.StartAsync().GetAwaiter().GetResult();
        return host;
    }

    /// <summary>In process (the latency columns read what the benchmark recorded), few iterations: each is seconds long.</summary>
    internal static Job InProcessJob { get; } = Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithWarmupCount(1)
        .WithIterationCount(5)
        .WithInvocationCount(1)
        .WithUnrollFactor(1);

    /// <summary>A fresh database on the engine's benchmark server (a temp file for SQLite): its connection string.</summary>
    internal static string CreateDatabase(string provider)
    {
        var name = "bench_" + Guid.NewGuid().ToString("N")[..12];
        switch (provider)
        {
            case "sqlite":
                var directory = Directory.CreateTempSubdirectory("chat-bench-").FullName;
                return new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, "chat.db") }.ConnectionString;
            case "mysql":
            {
                var server = Required("CHAT_BENCH_MYSQL");
                using var connection = new MySqlConnection(server);
                connection.Open();
                using var command = new MySqlCommand($"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", connection);
                command.ExecuteNonQuery();
                return new MySqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
            }

            default:
            {
                var server = Required("CHAT_BENCH_POSTGRES");
                using var connection = new NpgsqlConnection(server);
                connection.Open();
                using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
                command.ExecuteNonQuery();
                return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
            }
        }
    }

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable)
        ?? throw new InvalidOperationException($"{variable} is not set: run benchmarks/writer.sh, or set it to a server connection string.");

    /// <summary>In process (the latency columns read what the benchmark recorded), few iterations: each is seconds long.</summary>
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(InProcessJob);
            AddColumn(new RateColumn(), new LatencyColumn(50, Recorded), new LatencyColumn(99, Recorded));
        }
    }

    /// <summary>Durable messages per second: the inverse of the Mean per message.</summary>
    private sealed class RateColumn : IColumn
    {
        public string Id => "msg/s";

        public string ColumnName => "msg/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Durable messages per second (1 / Mean)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
            summary[benchmarkCase]?.ResultStatistics is { } stats
                ? (1e9 / stats.Mean).ToString("N0", CultureInfo.InvariantCulture)
                : "-";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;
    }
}
