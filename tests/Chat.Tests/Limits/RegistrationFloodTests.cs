using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Chat.Bench;
using Chat.Protocol;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Chat.Tests.Transport;
using Xunit.Abstractions;

namespace Chat.Tests.Limits;

/// <summary>
/// Registrations are bounded per address, successful ones too: four connections from one address sending REG with fresh
/// names as fast as answers come get their burst, then errno 11, and a pair chatting on the same replica does not notice.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class RegistrationFloodTests(ITestOutputHelper output)
{
    private const int Flooders = 4;
    private const int InFlight = 8;
    private const int Burst = 5;
    private static readonly TimeSpan Refill = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FloodTime = TimeSpan.FromSeconds(10);
    private static readonly IPAddress FloodAddress = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task A_REG_flood_from_one_address_is_refused_after_its_burst_while_a_pair_chats_undisturbed()
    {
        var database = await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("reg_flood");
        await using var replica = await ReplicaProcess.StartAsync(database, redis: null, new Dictionary<string, string>
        {
            ["Chat:RegistrationsPerAddress"] = Burst.ToString(CultureInfo.InvariantCulture),
            ["Chat:RegistrationRefill"] = Refill.ToString(),
        });
        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));
        await FloodTests.ProbeAsync(alice, bob, "warm-up", 20);

        using var stop = new CancellationTokenSource(FloodTime);
        var flooding = Enumerable.Range(0, Flooders).Select(_ => FloodAsync(replica.ChatPort, stop.Token)).ToList();
        var probe = new Latencies();
        var clock = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            probe.AddRange(await FloodTests.ProbeAsync(alice, bob, "p" + probe.Count, 1));
        }

        var answers = (await Task.WhenAll(flooding)).SelectMany(a => a).ToList();
        var created = answers.Count(e => e == 0);
        var refused = answers.Count(e => e == 11);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Flooders} flooders: {answers.Count} REG answered in {clock.Elapsed.TotalSeconds:0.0} s, {created} accounts created, {refused} refused with errno 11; " +
            $"probe ({probe.Count} messages): {probe.Summary()}"));

        // Refusals come a second late (Chat:ThrottledReplyDelay): each connection is slowed to a few answers a second.
        Assert.True(refused >= Flooders * 5, $"the flood hardly flowed: {answers.Count} answers");
        Assert.Equal(answers.Count, created + refused);
        Assert.True(created <= Burst + 1, $"{created} accounts created from one address");
        Assert.True(probe.Percentile(99) <= 50, $"the probe pair waited p99 {probe.Percentile(99):0.0} ms during the flood");
    }

    /// <summary>One connection from <see cref="FloodAddress"/> keeping <see cref="InFlight"/> REGs with fresh names in flight; the errnos it got.</summary>
    private static async Task<List<int>> FloodAsync(int port, CancellationToken stop)
    {
        using var tcp = new TcpClient(new IPEndPoint(FloodAddress, 0)) { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        var reader = PipeReader.Create(stream);
        var errnos = new List<int>();
        var prefix = "f" + Guid.NewGuid().ToString("N")[..12];
        var sent = 0;
        async Task SendAsync() => await stream.WriteAsync(RequestWriter.ToFrame(new RegisterRequest($"{prefix}-{sent++}", "flood-password")), CancellationToken.None);
        for (var i = 0; i < InFlight; i++)
        {
            await SendAsync();
        }

        while (errnos.Count < sent)
        {
            var result = await reader.ReadAsync(CancellationToken.None); // every REG sent gets its answer
            var buffer = result.Buffer;
            while (buffer.PositionOf((byte)'\n') is { } end)
            {
                var frame = ServerFrame.Parse(buffer.Slice(0, end).ToArray());
                buffer = buffer.Slice(buffer.GetPosition(1, end));
                Assert.Equal(MsgId.RegAck, frame.MsgId);
                errnos.Add(frame.Errno);
                if (!stop.IsCancellationRequested)
                {
                    await SendAsync();
                }
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            Assert.False(result.IsCompleted, "the replica closed a flooder's connection");
        }

        await reader.CompleteAsync();
        return errnos;
    }
}
