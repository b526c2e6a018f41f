using System.Diagnostics;
using System.Globalization;
using System.Net;
using Chat.Protocol;

namespace Chat.Bench;

/// <summary>
/// One run of a load workload: its connections and users, the ledger of sent messages, the latency histogram and
/// the phases: warm-up (not counted), the measured window, then a bounded drain for ACKs and deliveries still on
/// their way, then reconciliation. A message's latency is counted when it was sent (or, open loop, scheduled)
/// inside the window; delivered/s counts the deliveries that arrived inside it.
/// </summary>
public sealed class LoadRun(string workload, LoadOptions options) : IAsyncDisposable
{
    private readonly string _tag = Guid.NewGuid().ToString("N")[..8];
    private readonly List<BenchConnection> _connections = [];
    private readonly List<Task> _loops = [];
    private long _windowStart = long.MaxValue;
    private long _windowEnd = long.MaxValue;
    private long _windowDeliveries;
    private long _errors;
    private bool _sending;

    public LoadOptions Options => options;

    public MessageLedger Ledger { get; } = new();

    public Latencies Latency { get; } = new();

    public bool Sending => Volatile.Read(ref _sending);

    public IReadOnlyList<BenchConnection> Connections => _connections;

    /// <summary>Opens <paramref name="count"/> connections, registers a fresh user on each and logs it in (v2).
    /// Connection i goes to <paramref name="endpointOf"/>(i).</summary>
    public async Task<BenchConnection[]> ConnectUsersAsync(int count, Func<int, IPEndPoint> endpointOf, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var connections = new BenchConnection[count];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.SetupTimeout);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.SetupParallelism, CancellationToken = timeout.Token };
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, count), parallel, async (i, token) =>
            {
                var connection = await BenchConnection.ConnectAsync(endpointOf(i), options.SourceFor(i, count), i, options.WebSocket, token, options.Seed);
                connections[i] = connection;
                var name = $"bench-{_tag}-{i}";
                var id = await connection.RegisterAsync(name, "bench-password", token);
                await connection.LoginAsync(id, "bench-password", token);
            });
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{count} users were not registered and logged in within {options.SetupTimeout.TotalSeconds:F0} s");
        }
        finally
        {
            _connections.AddRange(connections.Where(c => c is not null));
        }

        Note($"{count} users registered and logged in in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
        return connections;
    }

    public string UniqueName(string prefix) => $"{prefix}-{_tag}";

    /// <summary>Starts every connection's read loop; from now on <see cref="Sending"/> is true.</summary>
    public void Start(IFrameHandler handler)
    {
        Volatile.Write(ref _sending, true);
        foreach (var connection in _connections)
        {
            _loops.Add(Task.Run(() => connection.RunAsync(handler)));
        }
    }

    /// <summary>Numbers a message for <paramref name="recipients"/>, sent now.</summary>
    public long NewMessage(int recipients) => Ledger.Register(recipients, Stopwatch.GetTimestamp());

    /// <summary>What every workload does with ACKs and ERRORs.</summary>
    public void OnReply(in ServerFrame frame)
    {
        switch (frame.MsgId)
        {
            case MsgId.Ack when frame.Cid >= 0:
                Ledger.Ack(frame.Cid, frame.Errno == 0);
                break;
            case MsgId.Error:
                Interlocked.Increment(ref _errors);
                break;
        }
    }

    /// <summary>A chat frame naming message <paramref name="messageId"/> arrived at one of its recipients.</summary>
    public void OnDelivered(long messageId)
    {
        var sentAt = Ledger.Deliver(messageId);
        if (sentAt < 0) return;
        var now = Stopwatch.GetTimestamp();
        if (sentAt >= Volatile.Read(ref _windowStart) && sentAt < Volatile.Read(ref _windowEnd))
        {
            Latency.Add(Micros(now - sentAt));
        }

        if (now >= Volatile.Read(ref _windowStart) && now < Volatile.Read(ref _windowEnd))
        {
            Interlocked.Increment(ref _windowDeliveries);
        }
    }

    /// <summary>Warm-up, measured window (progress once a second), stop sending, drain, reconcile.</summary>
    public async Task<LoadResult> MeasureAsync(Dictionary<string, object> parameters, CancellationToken ct)
    {
        var cpu = ServerCpu.Find(options.Endpoints.Select(e => e.Port).Concat(options.CpuPorts), options.CpuPids);
        var start = Stopwatch.GetTimestamp();
        var windowStart = start + Ticks(options.Warmup);
        var windowEnd = windowStart + Ticks(options.Duration);
        Volatile.Write(ref _windowStart, windowStart);
        Volatile.Write(ref _windowEnd, windowEnd);

        var lastDelivered = Ledger.Delivered;
        var cpuStarted = false;
        for (var second = 1; ; second++)
        {
            var next = Math.Min(start + Ticks(TimeSpan.FromSeconds(second)), windowEnd);
            var phase = next <= windowStart ? "warmup" : "run";
            if (phase == "run" && !cpuStarted)
            {
                cpuStarted = true;
                await WaitUntilAsync(windowStart, ct);
                cpu.Start();
            }

            await WaitUntilAsync(next, ct);

            var delivered = Ledger.Delivered;
            Note($"{second,3} s {phase}: sent {Ledger.Sent}, acked {Ledger.Acked}, delivered {delivered} (+{delivered - lastDelivered}), errors {Volatile.Read(ref _errors)}, broken {Broken()}");
            lastDelivered = delivered;
            if (next == windowEnd) break;
        }

        var cpuShares = cpu.Stop(Volatile.Read(ref _windowDeliveries));
        if (ServerCpu.LoadAverage() is { } load) parameters["loadAverage"] = load;
        Volatile.Write(ref _sending, false);
        var drainEnd = Stopwatch.GetTimestamp() + Ticks(options.Drain);
        while (!Ledger.Settled && Stopwatch.GetTimestamp() < drainEnd)
        {
            await Task.Delay(20, ct);
        }

        var (lost, timedOut) = Ledger.Reconcile();
        return new LoadResult
        {
            Workload = workload,
            Parameters = parameters,
            Connections = _connections.Count,
            Seconds = options.Duration.TotalSeconds,
            Sent = Ledger.Sent,
            Acked = Ledger.Acked,
            Rejected = Ledger.Rejected,
            Delivered = Ledger.Delivered,
            Duplicates = Ledger.Duplicates,
            Unknown = Ledger.Unknown,
            Lost = lost,
            TimedOut = timedOut,
            Errors = Volatile.Read(ref _errors),
            Disconnected = Broken(),
            DeliveredPerSecond = Volatile.Read(ref _windowDeliveries) / options.Duration.TotalSeconds,
            Latency = Latency,
            Cpu = cpuShares,
        };
    }

    private static async Task WaitUntilAsync(long timestamp, CancellationToken ct)
    {
        long wait;
        while ((wait = timestamp - Stopwatch.GetTimestamp()) > 0)
        {
            await Task.Delay(TimeSpan.FromTicks(Math.Max(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency, TimeSpan.TicksPerMillisecond)), ct);
        }
    }

    public void Note(string text)
    {
        if (options.Progress) Console.Error.WriteLine($"{workload}: {text}");
    }

    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _sending, false);
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        await Task.WhenAll(_loops);
    }

    public static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    public static long Micros(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;

    private int Broken() => _connections.Count(c => c.Broken);
}

/// <summary>The figures of one run, printed as text or as one JSON object.</summary>
public sealed class LoadResult
{
    public required string Workload { get; init; }

    public Dictionary<string, object> Parameters { get; init; } = [];

    public int Connections { get; init; }

    public double Seconds { get; init; }

    public long Sent { get; init; }

    public long? Acked { get; init; }

    public long? Rejected { get; init; }

    public long Delivered { get; init; }

    public long? Duplicates { get; init; }

    public long? Unknown { get; init; }

    public long? Lost { get; init; }

    public long? TimedOut { get; init; }

    public long Errors { get; init; }

    public int Disconnected { get; init; }

    public double DeliveredPerSecond { get; init; }

    public required Latencies Latency { get; init; }

    /// <summary>The server processes' CPU over the measured window (empty when none was found).</summary>
    public IReadOnlyList<CpuShare> Cpu { get; init; } = [];

    /// <summary>Server CPU-µs per delivered message, all measured processes together.</summary>
    public double CpuMicrosPerMessage => Cpu.Count == 0 ? double.NaN : Cpu.Sum(c => c.MicrosPerMessage);

    public void Write(TextWriter output, bool json)
    {
        if (json)
        {
            output.WriteLine(ToJson());
            return;
        }

        var parameters = string.Join(", ", Parameters.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value}")));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            {Workload} ({parameters}; {Connections} connections, {Seconds:F1} s measured)
              delivered/s  {DeliveredPerSecond:F0}
              latency      {Latency.Summary()} ({Latency.LongCount} samples)
            """));
        var counts = new List<string> { $"sent {Sent}" };
        AddCount(counts, "acked", Acked);
        AddCount(counts, "rejected", Rejected);
        counts.Add($"delivered {Delivered}");
        AddCount(counts, "lost", Lost);
        AddCount(counts, "timed out", TimedOut);
        AddCount(counts, "duplicates", Duplicates);
        AddCount(counts, "unknown", Unknown);
        counts.Add($"errors {Errors}");
        counts.Add($"disconnected {Disconnected}");
        output.WriteLine("  " + string.Join(", ", counts));
        if (Cpu.Count > 0)
        {
            var parts = string.Join(", ", Cpu.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Process.Label} {c.MicrosPerMessage:F1} ({c.Cores:P0} of a core)")));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  server CPU   {CpuMicrosPerMessage:F1} µs per delivered message: {parts}"));
        }
    }

    private static void AddCount(List<string> counts, string name, long? value)
    {
        if (value is { } v) counts.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {v}"));
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("workload", Workload);
            foreach (var (key, value) in Parameters)
            {
                w.WritePropertyName(key);
                System.Text.Json.JsonSerializer.Serialize(w, value);
            }

            w.WriteNumber("connections", Connections);
            w.WriteNumber("seconds", Seconds);
            w.WriteNumber("deliveredPerSecond", Math.Round(DeliveredPerSecond, 1));
            WriteMs(w, "p50Ms", Latency.Percentile(50));
            WriteMs(w, "p90Ms", Latency.Percentile(90));
            WriteMs(w, "p99Ms", Latency.Percentile(99));
            WriteMs(w, "maxMs", Latency.Percentile(100));
            w.WriteNumber("samples", Latency.LongCount);
            w.WriteNumber("sent", Sent);
            WriteCount(w, "acked", Acked);
            WriteCount(w, "rejected", Rejected);
            w.WriteNumber("delivered", Delivered);
            WriteCount(w, "lost", Lost);
            WriteCount(w, "timedOut", TimedOut);
            WriteCount(w, "duplicates", Duplicates);
            WriteCount(w, "unknown", Unknown);
            w.WriteNumber("errors", Errors);
            w.WriteNumber("disconnected", Disconnected);
            if (Cpu.Count > 0)
            {
                WriteRounded(w, "serverCpuUsPerMsg", CpuMicrosPerMessage);
                w.WriteStartArray("serverCpu");
                foreach (var c in Cpu)
                {
                    w.WriteStartObject();
                    w.WriteString("process", c.Process.Label);
                    w.WriteNumber("pid", c.Process.Pid);
                    WriteRounded(w, "usPerMsg", c.MicrosPerMessage);
                    w.WriteNumber("cores", Math.Round(c.Cores, 3));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteMs(System.Text.Json.Utf8JsonWriter w, string name, double ms)
    {
        if (double.IsNaN(ms)) w.WriteNull(name);
        else w.WriteNumber(name, Math.Round(ms, 3));
    }

    private static void WriteRounded(System.Text.Json.Utf8JsonWriter w, string name, double value)
    {
        if (double.IsNaN(value)) w.WriteNull(name);
        else w.WriteNumber(name, Math.Round(value, 1));
    }

    private static void WriteCount(System.Text.Json.Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
    }
}
