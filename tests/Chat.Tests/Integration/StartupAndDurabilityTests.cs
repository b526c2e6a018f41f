using Microsoft.Extensions.DependencyInjection;
using System.Text.Json.Nodes;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Integration;

public sealed class StartupAndDurabilityTests
{
    [Fact]
    public async Task Two_replicas_starting_at_once_on_a_fresh_database_both_come_up()
    {
        var postgres = await PostgresServer.StartedAsync();
        var database = await postgres.CreateDatabaseAsync("migrate");

        var replicas = await Task.WhenAll(Replica.StartAsync(database), Replica.StartAsync(database));
        try
        {
            await using var alice = await TestClient.LoggedInAsync(replicas[0].ChatPort, TestClient.Unique("alice"));
            await using var bob = await TestClient.LoggedInAsync(replicas[1].ChatPort, TestClient.Unique("bob"));
            Assert.NotEqual(alice.Id, bob.Id);
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData("", 20)]
    [InlineData(";Maximum Pool Size=7", 7)]
    [InlineData(";MaxPoolSize=9", 9)]
    public async Task A_replica_opens_at_most_20_database_connections_unless_its_connection_string_says(string suffix, int expected)
    {
        var postgres = await PostgresServer.StartedAsync();
        var database = await postgres.CreateDatabaseAsync("pool");
        await using var replica = await Replica.StartAsync(database + suffix);

        var source = replica.Services.GetRequiredService<Npgsql.NpgsqlDataSource>();

        Assert.Equal(expected, new Npgsql.NpgsqlConnectionStringBuilder(source.ConnectionString).MaxPoolSize);
    }

    [Fact]
    public async Task An_acknowledged_message_survives_a_hard_kill_of_the_replica()
    {
        var postgres = await PostgresServer.StartedAsync();
        var database = await postgres.CreateDatabaseAsync("durable");
        var bobName = TestClient.Unique("bob");
        const int count = 50;
        int bobId;
        await using (var first = await ReplicaProcess.StartAsync(database, redis: null))
        {
            await using var alice = await TestClient.LoggedInAsync(first.ChatPort, TestClient.Unique("alice"));
            bobId = await alice.RegisterAsync(bobName, "pw-" + bobName);
            for (var i = 0; i < count; i++)
            {
                await alice.SendAsync(new { msgid = 6, toid = bobId, msg = $"m{i}", cid = i });
            }

            for (var i = 0; i < count; i++)
            {
                var ack = await alice.ReceiveAsync(11);
                Assert.Equal(0, (int)ack["errno"]!);
            }

            first.KillHard(); // the instant the last ACK arrived: no drain, no flush
        }

        await using var second = await ReplicaProcess.StartAsync(database, redis: null);
        await using var bob = await TestClient.ConnectAsync(second.ChatPort);
        var login = await bob.LoginAsync(bobId, "pw-" + bobName);
        var offline = login["offlinemsg"]!.AsArray().Select(m => (string)JsonNode.Parse((string)m!)!["msg"]!);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"m{i}"), offline);
    }
}
