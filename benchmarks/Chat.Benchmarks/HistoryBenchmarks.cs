using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Chat.Domain;
using Chat.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Chat.Benchmarks;

/// <summary>
/// HISTORY as the handler reads it: a fresh scope and <see cref="IChatStore.HistoryAsync"/> for the 50 messages before a
/// random seq (one call in ten: the newest 50), in one conversation of <see cref="ConversationSize"/> entries, one
/// request at a time. One entry in ten is an event (issue 21): every 20th an edit of the message before it, every
/// 20th + 10 a reaction to it; HISTORY folds them (messages only, edited, with their reactions). The p50/p99 columns are single requests. Engines from CHAT_BENCH_HISTORY_PROVIDERS (default
/// <c>mysql</c>, the default store; comma-separated), servers as for <see cref="WriterBenchmarks"/> (benchmarks/history.sh).
/// </summary>
[Config(typeof(Config))]
public class HistoryBenchmarks
{
    public const int ConversationSize = 1_000_000;
    public const int Requests = 500;

    private static readonly ConcurrentDictionary<string, List<double>> LatenciesByProvider = new();

    private IHost _host = null!;
    private IServiceScopeFactory _scopes = null!;
    private List<double> _latencies = null!;
    private long _conversation;
    private int _reader;
    private int _iteration;

    public static IEnumerable<string> Providers =>
        (Environment.GetEnvironmentVariable("CHAT_BENCH_HISTORY_PROVIDERS") ?? "mysql").Split(',', StringSplitOptions.RemoveEmptyEntries);

    [ParamsSource(nameof(Providers))]
    public string Provider { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _host = WriterBenchmarks.StartStore(Provider);
        _scopes = _host.Services.GetRequiredService<IServiceScopeFactory>();
        _latencies = LatenciesByProvider.GetOrAdd(Provider, _ => []);
        SeedAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
    }

    [IterationSetup]
    public void NextIteration() => _iteration++;

    [Benchmark(OperationsPerInvoke = Requests)]
    public async Task HistoryOf50()
    {
        var record = _iteration > 1; // the first iteration warms up
        for (var i = 0; i < Requests; i++)
        {
            long? before = Random.Shared.Next(10) == 0 ? null : Random.Shared.NextInt64(101, ConversationSize + 1);
            var started = Stopwatch.GetTimestamp();
            await using (var scope = _scopes.CreateAsyncScope())
            {
                var page = await scope.ServiceProvider.GetRequiredService<IChatStore>().HistoryAsync(_reader, _conversation, before, 50, CancellationToken.None);
                if (page is not { Messages.Count: 50 } || !page.Messages.Any(m => m.Reactions.Count > 0))
                {
                    throw new InvalidOperationException("a page of 50 was expected, some of them with reactions");
                }
            }

            if (record)
            {
                _latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    /// <summary>Two users and their conversation of <see cref="ConversationSize"/> messages, written by one statement per engine.</summary>
    private async Task SeedAsync()
    {
        await using (var scope = _scopes.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<IChatStore>();
            _reader = (await store.RegisterAsync("alice", "hash", CancellationToken.None))!.Value;
            var other = (await store.RegisterAsync("bob", "hash", CancellationToken.None))!.Value;
            _conversation = ConversationId.Direct(_reader, other);
            // The first message the ordinary way: the conversation row and both cursors exist as in production.
            var writer = scope.ServiceProvider.GetRequiredService<IMessageWriter>();
            await writer.AppendAsync(new ChatMessage(_conversation, _reader, "alice", other, "first", "t", 0, null), CancellationToken.None);
        }

        var numbers = Provider switch
        {
            "mysql" => $"SELECT seq FROM seq_2_to_{ConversationSize}",
            "postgres" => $"SELECT generate_series(2, {ConversationSize}) AS seq",
            _ => $"WITH RECURSIVE n(seq) AS (SELECT 2 UNION ALL SELECT seq + 1 FROM n WHERE seq < {ConversationSize}) SELECT seq FROM n",
        };
        var body = "'sixty-four bytes of text, give or take, like a short chat message'";
        await using var connection = await _host.Services.GetRequiredService<DatabaseProvider>().DataSource.OpenConnectionAsync();
        // Kinds: 1 (an edit of seq - 1) at every 20th, 3 (a reaction to seq - 1) at every 20th + 10, messages otherwise.
        await ExecuteAsync(connection, $"""
            INSERT INTO messages (conversation_id, seq, sender_id, sender_name, body, client_time, ts, client_id, kind, ref_seq)
            SELECT {_conversation}, seq, {_reader}, 'alice', {body}, 't', seq, NULL,
                   CASE seq % 20 WHEN 0 THEN 1 WHEN 10 THEN 3 ELSE 0 END,
                   CASE WHEN seq % 10 = 0 THEN seq - 1 END
            FROM ({numbers}) AS numbers
            """);
        await ExecuteAsync(connection, $"UPDATE messages SET edited_ts = ts + 1 WHERE conversation_id = {_conversation} AND seq % 20 = 19");
        await ExecuteAsync(connection, $"""
            INSERT INTO reactions (conversation_id, seq, user_id, emoji, ts)
            SELECT {_conversation}, seq - 1, {_reader}, '👍', seq FROM ({numbers}) AS numbers WHERE seq % 20 = 10
            """);
        // As the writer folds each REACT into its message (LogEvents).
        await ExecuteAsync(connection, $"UPDATE messages SET reactions = '{_reader}:👍' WHERE conversation_id = {_conversation} AND seq % 20 = 9");
        await ExecuteAsync(connection, $"UPDATE conversations SET last_seq = {ConversationSize} WHERE id = {_conversation}");
        await ExecuteAsync(connection, Provider switch
        {
            "mysql" => "ANALYZE TABLE messages, reactions",
            _ => "ANALYZE messages; ANALYZE reactions",
        });
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 600;
        await command.ExecuteNonQueryAsync();
    }

    private static List<double>? Recorded(BenchmarkCase benchmarkCase) =>
        LatenciesByProvider.GetValueOrDefault((string)benchmarkCase.Parameters["Provider"]);

    /// <summary>In process (the latency columns read what the benchmark recorded), one seeding per engine.</summary>
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(WriterBenchmarks.InProcessJob);
            AddColumn(new LatencyColumn(50, Recorded), new LatencyColumn(99, Recorded));
        }
    }
}
