using System.Net;

namespace Chat.Bench;

/// <summary>The command line: one command per workload (see <see cref="Usage"/>).</summary>
public static class BenchProgram
{
    private static readonly CancellationTokenSource Cancel = new();

    public static async Task<int> Main(string[] args)
    {
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            Cancel.Cancel();
        };

        try
        {
            return args switch
            {
                ["pingpong", .. var rest] => await Report(BenchArgs.Parse(rest), (a, o) =>
                    PingPongWorkload.RunAsync(o, a.Number("pairs", 1), a.Flag("same-endpoint"), Cancel.Token)),
                ["seed-pingpong", .. var rest] => await Report(BenchArgs.Parse(rest), (a, o) =>
                    SeedPingPongWorkload.RunAsync(o, a.Number("pairs", 1), a.Flag("same-endpoint"), Cancel.Token)),
                ["rate", .. var rest] => await Report(BenchArgs.Parse(rest), (a, o) =>
                    RateWorkload.RunAsync(o, a.Number("pairs", 10), a.Real("rate", 1000), Cancel.Token)),
                ["group", .. var rest] => await Report(BenchArgs.Parse(rest), (a, o) =>
                    GroupWorkload.RunAsync(o, a.Number("groups", 1), a.Number("members", 10), a.Number("senders", int.MaxValue), Cancel.Token)),
                ["idle", .. var rest] => await Report(BenchArgs.Parse(rest), (a, o) =>
                    IdleWorkload.RunAsync(o, a.Number("connections", 1000), TimeSpan.FromSeconds(a.Real("ping-interval", 20)), a.Numbers("server-pid"), Cancel.Token)),
                ["tcp-pingpong", .. var rest] => await Report(BenchArgs.Parse(rest), (a, o) =>
                    TcpReference.PingPongAsync(o with { Endpoints = a.Endpoints("endpoint", "127.0.0.1:7000") }, a.Number("pairs", 1), Cancel.Token)),
                ["tcp-echo", .. var rest] => await Echo(BenchArgs.Parse(rest)),
                ["compare", var file] => Compare(file),
                _ => Usage(),
            };
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or IOException or TimeoutException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException)
        {
            Console.Error.WriteLine($"Chat.Bench: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Chat.Bench: cancelled");
            return 130;
        }
    }

    private static async Task<int> Report(BenchArgs args, Func<BenchArgs, LoadOptions, Task<LoadResult>> workload)
    {
        var options = LoadOptions.From(args);
        var result = await workload(args, options);
        if (args.Text("label") is { } label) result.Parameters["label"] = label;
        if (args.Text("round") is not null) result.Parameters["round"] = args.Number("round", 1);
        result.Write(Console.Out, options.Json);
        return 0;
    }

    private static int Compare(string file)
    {
        SeedComparison.Write(file == "-" ? ReadLines(Console.In) : File.ReadLines(file), Console.Out);
        return 0;
    }

    private static IEnumerable<string> ReadLines(TextReader reader)
    {
        while (reader.ReadLine() is { } line) yield return line;
    }

    private static async Task<int> Echo(BenchArgs args)
    {
        var address = IPAddress.Parse(args.Text("address") ?? "127.0.0.1");
        await TcpReference.ServeEchoAsync(new IPEndPoint(address, args.Number("port", 7000)), Cancel.Token);
        return 0;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("""
            usage: Chat.Bench COMMAND [--options]

            (The batching message writer alone: benchmarks/Chat.Benchmarks, BenchmarkDotNet.)

            Load against running servers over TCP or WebSocket (each registers fresh users, logs them in with "v":2 and spreads
            connections round-robin over the endpoints). Common options:
              --endpoints 127.0.0.1:6000,127.0.0.1:6002  (or one nginx address)   --seconds 10  --warmup 2
              --drain 5 (wait for stragglers)  --size 32 (message text bytes)  --json  --quiet (no progress)
              --source-addresses N (bind to 127.0.0.2.. ; automatic above 20,000 connections)
              --ws  WebSocket instead of TCP: the endpoints are HTTP ports (replicas' or nginx's), each
                    connection ws://endpoint/ws, one text message per frame

              --cpu-ports 3307,6380 --cpu-pids PID,PID  also measure these processes' CPU (the endpoints' own always)
              --setup-timeout 120 (seconds for registering and logging in)
              --label NAME --round N  tag the result (for compare)

              pingpong      --pairs 1 [--same-endpoint]      closed loop, one message in flight per connection
              seed-pingpong --pairs 1 [--same-endpoint]      the seed's protocol and workload: NUL-terminated frames,
                                                             no cid, LOGIN without v, one message in flight per pair
              rate          --rate 1000 --pairs 10           open loop, latency from the scheduled send time
              group         --groups 1 --members 10 [--senders K]
                                                             each sender sends when its previous message was ACKed
              idle          --connections 1000 [--ping-interval 20] [--server-pid PID[,PID]]
                                                             held-open connections; server RSS per connection

              compare FILE  a markdown table of labelled seed-pingpong --json results (one per line; - for stdin),
                            rates as ratios to the seed's same-server 50-pair rate of the same round

            Reference (raw loopback TCP, same sizes):
              tcp-echo      --port 7000 [--address 127.0.0.1]   echo server, runs until Ctrl-C / SIGTERM
              tcp-pingpong  --endpoint 127.0.0.1:7000 --pairs 1 --size 32 [--seconds --warmup --json]
            """);
        return 2;
    }
}
