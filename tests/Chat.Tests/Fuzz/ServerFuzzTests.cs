using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Chat.Server.Transport;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Chat.Tests.Fuzz;

/// <summary>
/// Hostile input over real connections to an in-process replica, some logged in, some not, on each database
/// engine: the server never crashes, never lets an exception out of a connection (nothing is logged at Error),
/// and afterwards a normal client still registers, logs in and chats.
/// </summary>
public sealed class ServerFuzzTests(ServerFuzzTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<ServerFuzzTests.Fixture>
{
    private const int Connections = 6;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Random_and_mutated_frames_over_many_connections_never_hurt_the_server(string provider)
    {
        var replica = fixture.Replicas[provider];
        var seed = FuzzInputs.SeedFromEnvironment();
        var duration = FuzzInputs.DurationFromEnvironment(3);
        output.WriteLine($"CHAT_FUZZ_SEED={seed} CHAT_FUZZ_SECONDS={duration.TotalSeconds}");
        var inputs = new FuzzInputs(seed);
        var slots = new FuzzConnection[Connections];
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i] = await FuzzConnection.OpenAsync(replica.ChatPort, logIn: i % 2 == 0);
        }

        var clock = Stopwatch.StartNew();
        var sent = 0;
        var reconnects = 0;
        while (clock.Elapsed < duration)
        {
            var i = inputs.Random.Next(slots.Length);
            if (!await slots[i].TrySendAsync(inputs.Next()))
            {
                await slots[i].DisposeAsync();
                slots[i] = await FuzzConnection.OpenAsync(replica.ChatPort, logIn: inputs.Random.Next(2) == 0);
                reconnects++;
            }

            sent++;
        }

        foreach (var slot in slots)
        {
            await slot.DisposeAsync();
        }

        output.WriteLine($"{sent} inputs, {reconnects} reconnects, in {clock.Elapsed.TotalSeconds:0.0} s");
        await AssertServerHealthyAsync(replica);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_regression_corpus_is_answered_or_refused_and_the_connection_ends_cleanly(string provider)
    {
        var replica = fixture.Replicas[provider];
        foreach (var (name, bytes) in FuzzInputs.Corpus())
        {
            foreach (var logIn in new[] { false, true })
            {
                await using var connection = await FuzzConnection.OpenAsync(replica.ChatPort, logIn);
                await connection.TrySendAsync(bytes);
                // A PING after it: either its PONG comes (the server read past the input) or the connection closes.
                await connection.TrySendAsync("\n{\"msgid\":13,\"cid\":\"after\"}\n"u8.ToArray());
                await Wait.UntilAsync(() => connection.Closed || connection.Received.Contains("\"cid\":\"after\""), TestClient.Deadline, $"{name}: an answer or a close");
            }
        }

        await AssertServerHealthyAsync(replica);
    }

    private async Task AssertServerHealthyAsync(Replica replica)
    {
        // Every fuzzing connection has ended (its logout and writer done) before the logs are judged.
        var connections = replica.Services.GetRequiredService<ConnectionRegistry>();
        await Wait.UntilAsync(() => connections.Count == 0, TestClient.Deadline, "every fuzzing connection has ended");
        var errors = fixture.Logs.AtLeast(LogLevel.Error).ToList();
        Assert.True(errors.Count == 0, "logged at Error or above:\n" + string.Join("\n", errors.Take(20)));

        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));
        var ack = await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "after the storm", cid = "ok" });
        Assert.Equal((11, 0), ((int)ack["msgid"]!, (int)ack["errno"]!));
        Assert.Equal("after the storm", (string)(await bob.ReceiveAsync(6))["msg"]!);
    }

    public sealed class Fixture : IAsyncLifetime
    {
        /// <summary>One replica per engine.</summary>
        public Dictionary<string, Replica> Replicas { get; } = [];

        /// <summary>All replicas' logs.</summary>
        public CapturedLogs Logs { get; } = new();

        public async Task InitializeAsync()
        {
            foreach (var provider in TestDatabase.Engines)
            {
                // Generous login limits: the fuzzer fails many logins from one address and must not lock itself out.
                Replicas[provider] = await Replica.StartAsync(await TestDatabase.CreateAsync(provider, "fuzz"), new Dictionary<string, string?>
                {
                    ["Chat:LoginAttemptsPerAddress"] = "1000000",
                    ["Chat:LoginAttemptRefill"] = "00:00:00.001",
                }, Logs.AddTo);
            }
        }

        public async Task DisposeAsync()
        {
            foreach (var replica in Replicas.Values)
            {
                await replica.DisposeAsync();
            }
        }
    }

    /// <summary>A raw socket that sends whatever it is given and drains whatever comes back.</summary>
    private sealed class FuzzConnection : IAsyncDisposable
    {
        private readonly Socket _socket;
        private readonly StringBuilder _received = new();
        private Task _drain = Task.CompletedTask;

        private FuzzConnection(Socket socket) => _socket = socket;

        public bool Closed { get; private set; }

        public string Received
        {
            get
            {
                lock (_received)
                {
                    return _received.ToString();
                }
            }
        }

        public static async Task<FuzzConnection> OpenAsync(int port, bool logIn)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync("127.0.0.1", port);
            var connection = new FuzzConnection(socket);
            if (logIn)
            {
                var name = TestClient.Unique("fuzz");
                var reg = await connection.RequestAsync($"{{\"msgid\":4,\"name\":\"{name}\",\"password\":\"pw\"}}\n");
                await connection.RequestAsync($"{{\"msgid\":1,\"id\":{(int)reg["id"]!},\"password\":\"pw\"}}\n");
            }

            connection._drain = connection.DrainAsync();
            return connection;
        }

        public async Task<bool> TrySendAsync(byte[] bytes)
        {
            try
            {
                await _socket.SendAsync(bytes);
                return !Closed;
            }
            catch (SocketException)
            {
                return false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _socket.Dispose();
            await _drain;
        }

        private async Task<JsonObject> RequestAsync(string frame)
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(frame));
            var line = new List<byte>();
            var one = new byte[1];
            using var deadline = new CancellationTokenSource(TestClient.Deadline);
            while (await _socket.ReceiveAsync(one, deadline.Token) == 1 && one[0] != '\n')
            {
                line.Add(one[0]);
            }

            return JsonNode.Parse(Encoding.UTF8.GetString([.. line]))!.AsObject();
        }

        private async Task DrainAsync()
        {
            var buffer = new byte[16 * 1024];
            try
            {
                int n;
                while ((n = await _socket.ReceiveAsync(buffer)) > 0)
                {
                    lock (_received)
                    {
                        // Only the tail matters (barrier PONGs); keep memory flat under a flood of replies.
                        if (_received.Length > 64 * 1024)
                        {
                            _received.Remove(0, _received.Length - 1024);
                        }

                        _received.Append(Encoding.UTF8.GetString(buffer, 0, n));
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Reset by the server, or disposed by the test.
            }

            Closed = true;
        }
    }
}
