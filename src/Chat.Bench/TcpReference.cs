using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Chat.Bench;

/// <summary>
/// The reference for the chat figures: raw TCP round trips between two processes on loopback. tcp-echo echoes
/// every byte back; tcp-pingpong opens 2P connections (as many as pingpong with P pairs) and keeps one message
/// of the same size in flight on each, measured the same way.
/// </summary>
public static class TcpReference
{
    public static async Task ServeEchoAsync(IPEndPoint endpoint, CancellationToken ct)
    {
        using var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(endpoint);
        listener.Listen(1024);
        Console.Error.WriteLine($"tcp-echo: listening on {listener.LocalEndPoint}");
        try
        {
            while (true)
            {
                var socket = await listener.AcceptAsync(ct);
                _ = Task.Run(() => EchoAsync(socket, ct), ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public static async Task<LoadResult> PingPongAsync(LoadOptions options, int pairs, CancellationToken ct = default)
    {
        var endpoint = options.Endpoints[0];
        var sockets = new Socket[2 * pairs];
        for (var i = 0; i < sockets.Length; i++)
        {
            sockets[i] = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await sockets[i].ConnectAsync(endpoint, ct);
        }

        var latency = new Latencies();
        var state = new State(Stopwatch.GetTimestamp() + LoadRun.Ticks(options.Warmup));
        state.WindowEnd = state.WindowStart + LoadRun.Ticks(options.Duration);
        var loops = sockets.Select(s => Task.Run(() => RoundTripsAsync(s, options.Size, state, latency), ct)).ToArray();
        var second = 1;
        while (Stopwatch.GetTimestamp() < state.WindowEnd)
        {
            await Task.Delay(1000, ct);
            if (options.Progress) Console.Error.WriteLine($"tcp-pingpong: {second++,3} s: round trips {Volatile.Read(ref state.Completed)}");
        }

        Volatile.Write(ref state.Stop, true);
        await Task.WhenAll(loops);
        foreach (var socket in sockets) socket.Dispose();
        return new LoadResult
        {
            Workload = "tcp-pingpong",
            Parameters = new() { ["pairs"] = pairs, ["size"] = options.Size },
            Connections = sockets.Length,
            Seconds = options.Duration.TotalSeconds,
            Sent = state.Started,
            Delivered = state.Completed,
            Disconnected = state.Failed,
            DeliveredPerSecond = state.InWindow / options.Duration.TotalSeconds,
            Latency = latency,
        };
    }

    private static async Task EchoAsync(Socket socket, CancellationToken ct)
    {
        using (socket)
        {
            socket.NoDelay = true;
            var buffer = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct)) > 0)
                {
                    var pending = buffer.AsMemory(0, read);
                    while (!pending.IsEmpty) pending = pending[await socket.SendAsync(pending, SocketFlags.None, ct)..];
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
            }
        }
    }

    private static async Task RoundTripsAsync(Socket socket, int size, State state, Latencies latency)
    {
        var message = new byte[size + 1];
        message.AsSpan().Fill((byte)'x');
        message[^1] = (byte)'\n';
        var reply = new byte[message.Length];
        try
        {
            while (!Volatile.Read(ref state.Stop))
            {
                var sent = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref state.Started);
                var pending = message.AsMemory();
                while (!pending.IsEmpty) pending = pending[await socket.SendAsync(pending, SocketFlags.None)..];
                for (var got = 0; got < reply.Length;)
                {
                    var read = await socket.ReceiveAsync(reply.AsMemory(got), SocketFlags.None);
                    if (read == 0) throw new SocketException((int)SocketError.ConnectionReset);
                    got += read;
                }

                var now = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref state.Completed);
                if (sent >= state.WindowStart && sent < state.WindowEnd) latency.Add(LoadRun.Micros(now - sent));
                if (now >= state.WindowStart && now < state.WindowEnd) Interlocked.Increment(ref state.InWindow);
            }
        }
        catch (SocketException)
        {
            Interlocked.Increment(ref state.Failed);
        }
    }

    private sealed class State(long windowStart)
    {
        public readonly long WindowStart = windowStart;
        public long WindowEnd;
        public long Started;
        public long Completed;
        public long InWindow;
        public int Failed;
        public bool Stop;
    }
}
