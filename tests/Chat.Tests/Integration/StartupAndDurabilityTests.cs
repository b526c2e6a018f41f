using Microsoft.Extensions.DependencyInjection;
using System.Text.Json.Nodes;
using Chat.Persistence;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Chat.Tests.Integration;

public sealed class StartupAndDurabilityTests
{
    [Theory]
    [InlineData("mysql")]
    [InlineData("postgres")]
    public async Task Two_replicas_starting_at_once_on_a_fresh_database_both_come_up(string provider)
    {
        var database = await TestDatabase.CreateAsync(provider, "migrate");

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
    [InlineData("postgres", "", 20)]
    [InlineData("postgres", ";Maximum Pool Size=7", 7)]
    [InlineData("postgres", ";MaxPoolSize=9", 9)]
    [InlineData("mysql", "", 20)]
    [InlineData("mysql", ";Maximum Pool Size=7", 7)]
    public async Task A_replica_opens_at_most_20_database_connections_unless_its_connection_string_says(string provider, string suffix, int expected)
    {
        var database = await TestDatabase.CreateAsync(provider, "pool");
        await using var replica = await Replica.StartAsync(database with { ConnectionString = database.ConnectionString + suffix });

        var source = replica.Services.GetRequiredService<DatabaseProvider>().DataSource;

        Assert.Equal(expected, provider == "mysql"
            ? (int)new MySqlConnector.MySqlConnectionStringBuilder(source.ConnectionString).MaximumPoolSize
            : new Npgsql.NpgsqlConnectionStringBuilder(source.ConnectionString).MaxPoolSize);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_acknowledged_message_survives_a_hard_kill_of_the_replica(string provider)
    {
        var database = await TestDatabase.CreateAsync(provider, "durable");
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

    [Fact]
    public async Task With_nothing_configured_a_replica_serves_chat_on_a_sqlite_file_in_its_working_directory()
    {
        var directory = Path.GetDirectoryName(new SqliteConnectionStringBuilder(TestDatabase.Sqlite("unused").ConnectionString).DataSource)!;
        int aliceId;
        await using (var replica = await ReplicaProcess.StartAsync(database: null, redis: null, workingDirectory: directory))
        {
            await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, "alice");
            aliceId = alice.Id;
            await replica.TerminateAsync(TimeSpan.FromSeconds(30));
        }

        Assert.True(File.Exists(Path.Combine(directory, "chat.db")));
        await using var again = await ReplicaProcess.StartAsync(database: null, redis: null, workingDirectory: directory);
        await using var client = await TestClient.ConnectAsync(again.ChatPort);
        var login = await client.LoginAsync(aliceId, "pw-alice");
        Assert.Equal(0, (int)login["errno"]!);
    }

    [Fact]
    public async Task Sqlite_with_redis_configured_is_refused_at_start_with_the_reason()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => Replica.StartAsync(
            TestDatabase.Sqlite("refused"), new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = "127.0.0.1:1" }));

        Assert.Contains("SQLite cannot be shared by replicas", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_string_without_a_provider_is_refused_at_start_with_the_reason()
    {
        var database = TestDatabase.Sqlite("unnamed");
        var error = await Assert.ThrowsAnyAsync<Exception>(() => Replica.StartAsync(
            database, new Dictionary<string, string?> { ["Chat:Store:Provider"] = null }));

        Assert.Contains("Chat:Store:Provider", error.Message, StringComparison.Ordinal);
    }
}
