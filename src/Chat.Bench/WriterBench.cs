using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Chat.Domain;
using Chat.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Chat.Bench;

/// <summary>
/// The batching writer alone, against a real PostgreSQL: every counted message is committed (durable) before
/// its sender sends the next one.
/// </summary>
public static class WriterBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var db = args.Text("db") ?? Environment.GetEnvironmentVariable("CHAT_BENCH_DB");
        if (db is null)
        {
            Console.Error.WriteLine("writer: --db CONNECTION_STRING (or CHAT_BENCH_DB) is required");
            return 2;
        }

        var senders = args.Number("senders", 50);
        var seconds = args.Number("seconds", 10);
        var warmup = args.Number("warmup", 2);

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Chat"] = db });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddChatPersistence();
        using var host = builder.Build();
        await host.StartAsync();
        var writer = host.Services.GetRequiredService<IMessageWriter>();

        // Fresh user ids per run so conversations start empty; no foreign keys tie messages to users.
        var first = Random.Shared.Next(1, int.MaxValue / 2);
        var body = new string('x', 64);
        var counting = false;
        var stop = false;
        var perSender = new (long Count, Latencies Latency)[senders];
        var tasks = Enumerable.Range(0, senders).Select(i => Task.Run(async () =>
        {
            var latency = new Latencies();
            long count = 0;
            var conversation = ConversationId.Direct(first + (2 * i), first + (2 * i) + 1);
            while (!Volatile.Read(ref stop))
            {
                var started = Stopwatch.GetTimestamp();
                await writer.AppendAsync(new ChatMessage(conversation, first + (2 * i), "bench", first + (2 * i) + 1, body, "t", 0, null), CancellationToken.None);
                if (Volatile.Read(ref counting))
                {
                    latency.Add((long)Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                    count++;
                }
            }

            perSender[i] = (count, latency);
        })).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(warmup));
        Volatile.Write(ref counting, true);
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        Volatile.Write(ref counting, false);
        var elapsed = clock.Elapsed;
        Volatile.Write(ref stop, true);
        await Task.WhenAll(tasks);
        await host.StopAsync();

        var all = new Latencies();
        foreach (var (_, latency) in perSender) all.AddRange(latency);
        var total = perSender.Sum(s => s.Count);
        var rate = total / elapsed.TotalSeconds;
        if (args.Flag("json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                workload = "writer", senders, seconds = elapsed.TotalSeconds, messages = total, messagesPerSecond = rate,
                p50Ms = all.Percentile(50), p90Ms = all.Percentile(90), p99Ms = all.Percentile(99), maxMs = all.Percentile(100),
            }));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"writer: {senders} senders, {total} durable messages in {elapsed.TotalSeconds:F1} s = {rate:F0} messages/s; append latency {all.Summary()}"));
        }

        return 0;
    }
}
