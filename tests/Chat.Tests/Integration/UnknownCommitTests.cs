using System.Text;
using System.Text.Json.Nodes;
using Chat.Tests.Infrastructure;
using MySqlConnector;
using Npgsql;

namespace Chat.Tests.Integration;

/// <summary>
/// A replica whose writer connection dies right after it sent a batch's COMMIT (a fault proxy between the replica and
/// its database): the writer learns whether the batch committed, so its messages are answered as stored, delivered
/// live once and stored once, from senders with cids (v2) and without (the seed's).
/// </summary>
public sealed class UnknownCommitTests
{
    public static TheoryData<string> Servers => ["mysql", "postgres"];

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task A_batch_whose_commit_reply_was_lost_is_answered_delivered_and_stored_once(string provider)
    {
        var database = await TestDatabase.CreateAsync(provider, "commit_cut");
        var (port, viaProxy) = provider == "mysql"
            ? ((await MariaDbServer.StartedAsync()).Port, (Func<int, string>)(p => new MySqlConnectionStringBuilder(database.ConnectionString) { Port = (uint)p }.ConnectionString))
            : ((await PostgresServer.StartedAsync()).Port, p => new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = p }.ConnectionString);
        await using var proxy = CommitCutProxy.Start(port);
        var logs = new CapturedLogs();
        await using var replica = await Replica.StartAsync(
            database,
            new Dictionary<string, string?> { ["ConnectionStrings:Chat"] = viaProxy(proxy.Port) },
            logs.AddTo);

        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"), v: 2);
        await using var carol = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("carol")); // the seed's protocol
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"), v: 2);

        // MySQL: the batch's last command carries the rows and ";\nCOMMIT". PostgreSQL: one autocommitted statement,
        // committed at the Sync message ('S', length 4) that follows its Bind (which carries the rows) and Execute.
        var marker = Encoding.UTF8.GetBytes("cut-after-me");
        proxy.CutAfter(marker, provider == "mysql" ? "\nCOMMIT"u8.ToArray() : [(byte)'S', 0, 0, 0, 4]);

        const int each = 5;
        for (var i = 0; i < each; i++)
        {
            await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = $"cut-after-me a{i}", cid = $"a{i}" });
            await carol.SendAsync(new { msgid = 6, toid = bob.Id, msg = $"cut-after-me c{i}" });
        }

        await proxy.Cut.WaitAsync(TestClient.Deadline);

        for (var i = 0; i < each; i++)
        {
            var ack = await alice.ReceiveAsync(11);
            Assert.Equal(0, (int)ack["errno"]!);
        }

        var received = new List<string>();
        for (var i = 0; i < 2 * each; i++)
        {
            received.Add((string)(await bob.ReceiveAsync(6))["msg"]!);
        }

        Assert.Equal(
            Enumerable.Range(0, each).SelectMany(i => new[] { $"cut-after-me a{i}", $"cut-after-me c{i}" }).Order(),
            received.Order());
        await bob.AssertNothingPendingAsync();
        await carol.AssertNothingPendingAsync(); // no error frame: the seed's sender was not told to send again
        await alice.AssertNothingPendingAsync();

        Assert.Equal(2 * each, await database.ScalarAsync("SELECT COUNT(*) FROM messages WHERE body LIKE 'cut-after-me%'"));
        Assert.True(proxy.ServerAnswered, "the server answered the cut commit");
        var resolved = Assert.Single(logs.Entries, e => e.EventId.Id == 2014);
        Assert.Contains("Committed=True", resolved.State, StringComparison.Ordinal);
    }
}
