using System.Diagnostics;
using System.Globalization;
using Chat.Protocol;

namespace Chat.Bench;

/// <summary>
/// idle: C logged-in connections held open, each sending PING every ping interval (spread evenly). Reports how
/// many still answer a final PING, the PING round trip, and the servers' resident memory per connection.
/// </summary>
public static class IdleWorkload
{
    public static async Task<LoadResult> RunAsync(LoadOptions options, int count, TimeSpan pingInterval, IReadOnlyList<int> serverPids, CancellationToken ct = default)
    {
        await using var run = new LoadRun("idle", options);
        var rssBefore = ResidentKilobytes(serverPids);
        var connections = await run.ConnectUsersAsync(count, options.EndpointFor, ct);
        var rssLoggedIn = ResidentKilobytes(serverPids);
        run.Start(new Handler(run));

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pinger = Task.Run(() => PingAsync(connections, pingInterval, stop.Token), ct);
        var result = await run.MeasureAsync([], ct);
        await stop.CancelAsync();
        try
        {
            await pinger;
        }
        catch (OperationCanceledException)
        {
        }

        var connected = await FinalPingAsync(connections, options.Drain, ct);
        var rssEnd = ResidentKilobytes(serverPids);
        var parameters = new Dictionary<string, object>
        {
            ["pingIntervalSeconds"] = pingInterval.TotalSeconds,
            ["connected"] = connected,
        };
        if (serverPids.Count > 0)
        {
            parameters["serverRssBeforeKb"] = rssBefore;
            parameters["serverRssLoggedInKb"] = rssLoggedIn;
            parameters["serverRssEndKb"] = rssEnd;
            parameters["serverRssPerConnectionKb"] = Math.Round((rssLoggedIn - rssBefore) / (double)Math.Max(count, 1), 2);
        }

        return new LoadResult
        {
            Workload = "idle",
            Parameters = parameters,
            Connections = count,
            Seconds = result.Seconds,
            Sent = result.Sent,
            Delivered = result.Delivered,
            Errors = result.Errors,
            Disconnected = count - connected,
            Latency = result.Latency,
        };
    }

    /// <summary>Sum of VmRSS (kB) of the given processes, from /proc/PID/status.</summary>
    public static long ResidentKilobytes(IReadOnlyList<int> pids)
    {
        long total = 0;
        foreach (var pid in pids)
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"no VmRSS for process {pid}");
            total += long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
        }

        return total;
    }

    private static async Task PingAsync(BenchConnection[] connections, TimeSpan interval, CancellationToken ct)
    {
        var step = LoadRun.Ticks(interval) / (double)connections.Length;
        var start = Stopwatch.GetTimestamp();
        for (long n = 0; !ct.IsCancellationRequested; n++)
        {
            var ahead = start + (long)(n * step) - Stopwatch.GetTimestamp();
            if (ahead > Stopwatch.Frequency / 1000)
            {
                await Task.Delay(TimeSpan.FromTicks(ahead * TimeSpan.TicksPerSecond / Stopwatch.Frequency), ct);
            }

            await connections[n % connections.Length].SendPingAsync(Stopwatch.GetTimestamp());
        }
    }

    /// <summary>PINGs every connection once more; counts those whose PONG comes back within <paramref name="deadline"/>.</summary>
    private static async Task<int> FinalPingAsync(BenchConnection[] connections, TimeSpan deadline, CancellationToken ct)
    {
        var before = connections.Select(c => c.Marks).ToArray();
        foreach (var connection in connections)
        {
            await connection.SendPingAsync(Stopwatch.GetTimestamp());
        }

        var end = Stopwatch.GetTimestamp() + LoadRun.Ticks(deadline);
        int answered;
        while ((answered = connections.Where((c, i) => c.Marks > before[i]).Count()) < connections.Count(c => !c.Broken)
            && Stopwatch.GetTimestamp() < end)
        {
            await Task.Delay(20, ct);
        }

        return answered;
    }

    private sealed class Handler(LoadRun run) : IFrameHandler
    {
        public ValueTask OnFrameAsync(BenchConnection connection, ServerFrame frame)
        {
            if (frame.MsgId == MsgId.Pong && frame.Cid > 0)
            {
                connection.Marks++;
                run.Latency.Add(LoadRun.Micros(Stopwatch.GetTimestamp() - frame.Cid));
            }
            else
            {
                run.OnReply(frame);
            }

            return default;
        }
    }
}
