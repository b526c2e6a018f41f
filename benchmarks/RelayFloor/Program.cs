using System.Net;
using RelayFloor;
using Microsoft.AspNetCore.Connections;
using StackExchange.Redis;

// The relay floor: what a replica of this design cannot do without, and nothing else. Kestrel's sockets (as the
// replica sets them up), the protocol's framing, parsing and frame writing, one outgoing queue and writer per
// connection, and between two of them a Redis channel per logged-in user; no store, no sessions, no limits, no
// telemetry. scripts/bench.sh seed runs it beside Chat and the seed (BENCH_FLOOR=1): its CPU per message is the least a
// .NET replica that speaks this protocol spends here. Usage: RelayFloor PORT [REDIS]
if (args.Length is < 1 or > 2 || !int.TryParse(args[0], out var port))
{
    Console.Error.WriteLine("usage: RelayFloor PORT [REDIS host:port]");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseConnectionHandler<Relay>()));
builder.Services.AddSingleton(new Users(args.Length == 2 ? await ConnectionMultiplexer.ConnectAsync(args[1]) : null, firstId: port * 10_000));
await builder.Build().RunAsync();
return 0;
