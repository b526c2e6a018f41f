using System.Diagnostics;
using Chat.Protocol;

namespace Chat.Bench;

/// <summary>
/// pingpong: P pairs, closed loop. Each side of a pair sends one message and sends the next one when the peer's
/// message arrives, so each connection has one message in flight; both directions count as delivered messages.
/// With several endpoints the two sides of a pair sit on different ones (cross-replica) unless sameEndpoint.
/// </summary>
public static class PingPongWorkload
{
    public static async Task<LoadResult> RunAsync(LoadOptions options, int pairs, bool sameEndpoint, CancellationToken ct = default)
    {
        await using var run = new LoadRun("pingpong", options);
        var connections = await run.ConnectUsersAsync(2 * pairs, i => sameEndpoint ? options.Endpoints[0] : options.EndpointFor(i), ct);
        Pair(connections);
        run.Start(new Handler(run));
        foreach (var connection in connections)
        {
            await connection.SendChatAsync(false, connection.Target, run.NewMessage(1), options.Size);
        }

        return await run.MeasureAsync(new()
        {
            ["pairs"] = pairs,
            ["size"] = options.Size,
            ["endpoints"] = sameEndpoint ? 1 : options.Endpoints.Count,
        }, ct);
    }

    /// <summary>Connections 2k and 2k+1 send to each other.</summary>
    internal static void Pair(BenchConnection[] connections)
    {
        for (var i = 0; i + 1 < connections.Length; i += 2)
        {
            connections[i].Target = connections[i + 1].UserId;
            connections[i + 1].Target = connections[i].UserId;
        }
    }

    private sealed class Handler(LoadRun run) : IFrameHandler
    {
        public ValueTask OnFrameAsync(BenchConnection connection, ServerFrame frame)
        {
            if (frame.MsgId != MsgId.OneChat)
            {
                run.OnReply(frame);
                return default;
            }

            run.OnDelivered(frame.MessageId);
            return run.Sending
                ? connection.SendChatAsync(false, connection.Target, run.NewMessage(1), run.Options.Size)
                : default;
        }
    }
}

/// <summary>
/// seed-pingpong: the seed's own workload, as its console client would run it. P pairs of users, each logged in
/// without "v":2, ping-pong ONE_CHAT in turn: the first of each pair sends, and each message is answered by its
/// recipient when it arrives, so one message per pair is in flight. Frames end with NUL and carry no cid, so nothing
/// is acknowledged: a message counts as accepted once written, and lost when it never arrives (its pair then stops).
/// </summary>
public static class SeedPingPongWorkload
{
    public static async Task<LoadResult> RunAsync(LoadOptions options, int pairs, bool sameEndpoint, CancellationToken ct = default)
    {
        if (options.WebSocket)
        {
            // Its frames end in NUL, and a WebSocket message ends at '\n': nothing would ever be sent.
            throw new ArgumentException("seed-pingpong speaks the seed's TCP protocol only: drop --ws");
        }

        options = options with { Seed = true };
        await using var run = new LoadRun("seed-pingpong", options);
        var connections = await run.ConnectUsersAsync(2 * pairs, i => sameEndpoint ? options.Endpoints[0] : options.EndpointFor(i), ct);
        PingPongWorkload.Pair(connections);
        var handler = new Handler(run, SeedFrames.Time(DateTime.Now));
        run.Start(handler);
        for (var i = 0; i < connections.Length; i += 2)
        {
            await handler.SendAsync(connections[i]);
        }

        return await run.MeasureAsync(new()
        {
            ["pairs"] = pairs,
            ["size"] = options.Size,
            ["endpoints"] = sameEndpoint ? 1 : options.Endpoints.Count,
        }, ct);
    }

    private sealed class Handler(LoadRun run, string time) : IFrameHandler
    {
        public ValueTask SendAsync(BenchConnection connection)
        {
            var id = run.NewMessage(1);
            run.Ledger.Ack(id, ok: true);
            return connection.SendSeedChatAsync(connection.Target, id, run.Options.Size, time);
        }

        public ValueTask OnFrameAsync(BenchConnection connection, ServerFrame frame)
        {
            if (frame.MsgId != MsgId.OneChat)
            {
                run.OnReply(frame);
                return default;
            }

            run.OnDelivered(frame.MessageId);
            return run.Sending ? SendAsync(connection) : default;
        }
    }
}

/// <summary>
/// rate: open loop, R messages/s in total over P pairs (each side sends to the other, in turn). Latency runs from
/// the time a message was scheduled, not when it could be sent, so a stalled sender shows up in it.
/// </summary>
public static class RateWorkload
{
    public static async Task<LoadResult> RunAsync(LoadOptions options, int pairs, double rate, CancellationToken ct = default)
    {
        await using var run = new LoadRun("rate", options);
        var connections = await run.ConnectUsersAsync(2 * pairs, options.EndpointFor, ct);
        PingPongWorkload.Pair(connections);
        var handler = new Handler(run);
        run.Start(handler);
        var sender = Task.Run(() => SendOnScheduleAsync(run, connections, rate), ct);
        var result = await run.MeasureAsync(new() { ["pairs"] = pairs, ["rate"] = rate, ["size"] = options.Size }, ct);
        await sender;
        return result;
    }

    private static async Task SendOnScheduleAsync(LoadRun run, BenchConnection[] connections, double rate)
    {
        var interval = Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp();
        for (long n = 0; run.Sending; n++)
        {
            var due = start + (long)(n * interval);
            var ahead = due - Stopwatch.GetTimestamp();
            if (ahead > Stopwatch.Frequency / 1000)
            {
                await Task.Delay(TimeSpan.FromTicks(ahead * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
            }

            var connection = connections[n % connections.Length];
            await connection.SendChatAsync(false, connection.Target, run.Ledger.Register(1, due), run.Options.Size);
        }
    }

    private sealed class Handler(LoadRun run) : IFrameHandler
    {
        public ValueTask OnFrameAsync(BenchConnection connection, ServerFrame frame)
        {
            if (frame.MsgId == MsgId.OneChat) run.OnDelivered(frame.MessageId);
            else run.OnReply(frame);
            return default;
        }
    }
}

/// <summary>
/// group: N groups of G members spread over the endpoints; K senders per group (default all) each send their next
/// message once the previous one was ACKed (closed loop); every other member receives each message.
/// </summary>
public static class GroupWorkload
{
    public static async Task<LoadResult> RunAsync(LoadOptions options, int groups, int members, int senders, CancellationToken ct = default)
    {
        if (members < 2) throw new ArgumentException("--members must be at least 2");
        senders = Math.Clamp(senders, 1, members);
        await using var run = new LoadRun("group", options);
        var connections = await run.ConnectUsersAsync(groups * members, options.EndpointFor, ct);
        for (var g = 0; g < groups; g++)
        {
            var group = connections.AsSpan(g * members, members).ToArray();
            var groupId = await group[0].CreateGroupAsync(run.UniqueName($"g{g}"), ct);
            await Parallel.ForEachAsync(group[1..], new ParallelOptions { MaxDegreeOfParallelism = options.SetupParallelism, CancellationToken = ct },
                async (member, token) => await member.JoinGroupAsync(groupId, token));
            foreach (var member in group) member.Target = groupId;
        }

        run.Note($"{groups} groups of {members} members ready");
        var handler = new Handler(run, members - 1);
        run.Start(handler);
        var sending = connections.Where((_, i) => i % members < senders).ToArray();
        foreach (var sender in sending)
        {
            await sender.SendChatAsync(true, sender.Target, run.NewMessage(members - 1), options.Size);
        }

        return await run.MeasureAsync(new()
        {
            ["groups"] = groups,
            ["members"] = members,
            ["senders"] = senders,
            ["size"] = options.Size,
        }, ct);
    }

    private sealed class Handler(LoadRun run, int recipients) : IFrameHandler
    {
        public ValueTask OnFrameAsync(BenchConnection connection, ServerFrame frame)
        {
            switch (frame.MsgId)
            {
                case MsgId.GroupChat:
                    run.OnDelivered(frame.MessageId);
                    return default;
                case MsgId.Ack when frame.Cid >= 0:
                    run.OnReply(frame);
                    return run.Sending
                        ? connection.SendChatAsync(true, connection.Target, run.NewMessage(recipients), run.Options.Size)
                        : default;
                default:
                    run.OnReply(frame);
                    return default;
            }
        }
    }
}
