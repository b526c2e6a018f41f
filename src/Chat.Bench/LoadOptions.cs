using System.Net;

namespace Chat.Bench;

/// <summary>What every load workload shares: where to connect, how long to measure, how to report.</summary>
public sealed record LoadOptions
{
    public required IReadOnlyList<IPEndPoint> Endpoints { get; init; }

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait, after the last send, for ACKs and deliveries still on their way.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(5);

    public bool Json { get; init; }

    /// <summary>Speak WebSocket to <c>/ws</c> on the endpoints (HTTP ports) instead of raw TCP.</summary>
    public bool WebSocket { get; init; }

    /// <summary>Progress lines on stderr once a second.</summary>
    public bool Progress { get; init; } = true;

    /// <summary>Message text bytes.</summary>
    public int Size { get; init; } = 32;

    /// <summary>Loopback source addresses to spread connections over (0: let the kernel choose).</summary>
    public int SourceAddresses { get; init; }

    /// <summary>Registrations and logins in flight at once during setup.</summary>
    public int SetupParallelism { get; init; } = 16;

    /// <summary>How long registering and logging in every user may take before the run gives up.</summary>
    public TimeSpan SetupTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Ports whose listening processes' CPU is measured over the window, beside the endpoints' own.</summary>
    public IReadOnlyList<int> CpuPorts { get; init; } = [];

    /// <summary>Processes whose CPU is measured over the window, by pid.</summary>
    public IReadOnlyList<int> CpuPids { get; init; } = [];

    /// <summary>Speak the seed's protocol (<see cref="SeedFrames"/>).</summary>
    public bool Seed { get; init; }

    public static LoadOptions From(BenchArgs args, string defaultEndpoints = "127.0.0.1:6000,127.0.0.1:6002") => new()
    {
        Endpoints = args.Endpoints("endpoints", defaultEndpoints),
        Duration = TimeSpan.FromSeconds(args.Real("seconds", 10)),
        Warmup = TimeSpan.FromSeconds(args.Real("warmup", 2)),
        Drain = TimeSpan.FromSeconds(args.Real("drain", 5)),
        Json = args.Flag("json"),
        WebSocket = args.Flag("ws"),
        Progress = !args.Flag("quiet"),
        Size = args.Number("size", 32),
        SourceAddresses = args.Number("source-addresses", 0),
        SetupParallelism = args.Number("setup-parallelism", 16),
        SetupTimeout = TimeSpan.FromSeconds(args.Real("setup-timeout", 120)),
        CpuPorts = args.Numbers("cpu-ports"),
        CpuPids = args.Numbers("cpu-pids"),
    };

    /// <summary>The endpoint of connection <paramref name="index"/>: round-robin.</summary>
    public IPEndPoint EndpointFor(int index) => Endpoints[index % Endpoints.Count];

    /// <summary>
    /// The source address of connection <paramref name="index"/> out of <paramref name="connections"/>: null
    /// (kernel's choice) unless the endpoints are loopback and there are more connections than one source address
    /// has ephemeral ports for comfortably (20,000), or <see cref="SourceAddresses"/> asks for a number.
    /// </summary>
    public IPAddress? SourceFor(int index, int connections)
    {
        var endpoint = EndpointFor(index);
        if (!IPAddress.IsLoopback(endpoint.Address) || endpoint.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            return null;
        }

        var count = SourceAddresses > 0 ? SourceAddresses : (connections + 19_999) / 20_000;
        return count <= 1 && SourceAddresses == 0 ? null : new IPAddress([127, 0, (byte)(index % count / 250), (byte)(2 + (index % count % 250))]);
    }
}
