using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Chat.Domain;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Security;

/// <summary>Credentials never reach the logs; users see only their own messages and their own groups'.</summary>
public sealed partial class SecurityTests(SecurityTests.Fixture fixture) : IClassFixture<SecurityTests.Fixture>
{
    private int Port => fixture.Replica.ChatPort;

    [Fact]
    public async Task No_password_or_password_hash_appears_in_any_log_line()
    {
        const string password = "Pa55-w0rd-canary-7f3b";
        var name = TestClient.Unique("carla");
        int id;
        await using (var client = await TestClient.ConnectAsync(Port))
        {
            id = await client.RegisterAsync(name, password);
            await client.RequestAsync(new { msgid = 4, name, password });
            await client.RequestAsync(new { msgid = 4, name = " bad name ", password });
            await client.LoginAsync(id, password + "-wrong");
            await client.LoginAsync(int.MaxValue, password);
            Assert.Equal(0, (int)(await client.LoginAsync(id, password))["errno"]!);
            await client.RequestAsync(new { msgid = 3, cid = "out" });
            await client.RequestAsync(new { msgid = 1, id, password = new[] { password } });
        }

        string hash;
        await using (var scope = fixture.Replica.Services.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<IChatStore>();
            var account = await store.FindUserAsync(id, CancellationToken.None);
            hash = account!.PasswordHash;
        }

        var entries = fixture.Logs.Entries.ToList();
        Assert.Contains(entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Trace);
        var leaks = entries
            .Where(e => $"{e.Message} {e.State} {e.Exception}" is var text
                && (text.Contains(password, StringComparison.Ordinal) || text.Contains(hash, StringComparison.Ordinal)
                    || text.Contains(hash[^24..], StringComparison.Ordinal)))
            .ToList();
        Assert.True(leaks.Count == 0, "credentials logged:\n" + string.Join("\n", leaks));
    }

    [Fact]
    public async Task Offline_messages_reach_only_their_recipient()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        var bobName = TestClient.Unique("bob");
        int bobId;
        await using (var bob = await TestClient.ConnectAsync(Port))
        {
            bobId = await bob.RegisterAsync(bobName, "pw-bob");
        }

        var ack = await alice.RequestAsync(new { msgid = 6, toid = bobId, msg = "for bob only", cid = "m" });
        Assert.Equal(0, (int)ack["errno"]!);

        await using var carol = await TestClient.ConnectAsync(Port);
        var carolId = await carol.RegisterAsync(TestClient.Unique("carol"), "pw-carol");
        var carolLogin = await carol.LoginAsync(carolId, "pw-carol");

        Assert.Equal(0, (int)carolLogin["errno"]!);
        Assert.Null(carolLogin["offlinemsg"]);
        await using var mallory = await TestClient.ConnectAsync(Port);
        var wrong = await mallory.LoginAsync(bobId, "guess");
        Assert.Equal(1, (int)wrong["errno"]!);
        Assert.Null(wrong["offlinemsg"]);

        await using var bobAgain = await TestClient.ConnectAsync(Port);
        var bobLogin = await bobAgain.LoginAsync(bobId, "pw-bob");
        var offline = bobLogin["offlinemsg"]!.AsArray().Select(m => (string)JsonNode.Parse((string)m!)!["msg"]!);
        Assert.Equal(["for bob only"], offline);
    }

    [Fact]
    public async Task Group_messages_reach_only_members_online_or_offline()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        var group = await alice.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("club"), cid = "g" });
        var groupId = (int)group["groupid"]!;
        var memberName = TestClient.Unique("member");
        var outsiderName = TestClient.Unique("outsider");
        int memberId, outsiderId;
        await using (var member = await TestClient.ConnectAsync(Port))
        {
            memberId = await member.RegisterAsync(memberName, "pw");
            await member.LoginAsync(memberId, "pw");
            Assert.Equal(0, (int)(await member.RequestAsync(new { msgid = 9, groupid = groupId, cid = "j" }))["errno"]!);
        }

        await using (var outsider = await TestClient.ConnectAsync(Port))
        {
            outsiderId = await outsider.RegisterAsync(outsiderName, "pw");
        }

        await using var onlineOutsider = await TestClient.LoggedInAsync(Port, TestClient.Unique("lurker"));
        var sent = await alice.RequestAsync(new { msgid = 10, groupid = groupId, msg = "members only", cid = "m" });
        Assert.Equal(0, (int)sent["errno"]!);

        // Neither the outsider who was online nor the one who was offline sees it; a group id in a frame gives
        // no way in.
        await onlineOutsider.AssertNothingPendingAsync();
        var refused = await onlineOutsider.RequestAsync(new { msgid = 10, groupid = groupId, msg = "let me in" });
        Assert.Equal((12, 7), ((int)refused["msgid"]!, (int)refused["errno"]!));
        await using var outsiderAgain = await TestClient.ConnectAsync(Port);
        var outsiderLogin = await outsiderAgain.LoginAsync(outsiderId, "pw");
        Assert.Null(outsiderLogin["offlinemsg"]);
        Assert.Null(outsiderLogin["groups"]);

        await using var memberAgain = await TestClient.ConnectAsync(Port);
        var memberLogin = await memberAgain.LoginAsync(memberId, "pw");
        var offline = memberLogin["offlinemsg"]!.AsArray().Select(m => (string)JsonNode.Parse((string)m!)!["msg"]!);
        Assert.Equal(["members only"], offline);
    }

    [Fact]
    public void Raw_sql_in_the_sources_is_never_built_from_interpolated_or_concatenated_text()
    {
        var sources = Directory.EnumerateFiles(Path.Combine(Repository.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        var offending = new List<string>();
        foreach (var file in sources)
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                if (UnsafeSql().IsMatch(lines[i]))
                {
                    offending.Add($"{Path.GetRelativePath(Repository.Root, file)}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }

        Assert.True(offending.Count == 0, "SQL built from text: use parameters\n" + string.Join("\n", offending));
    }

    // A command built from an interpolated or concatenated string, or EF's raw-SQL entry points.
    [GeneratedRegex("""(CommandText\s*=\s*\$|new\s+\w*Command\(\s*\$|CommandText\s*=.*"\s*\+|FromSqlRaw|ExecuteSqlRaw|SqlQueryRaw)""")]
    private static partial Regex UnsafeSql();

    public sealed class Fixture : IAsyncLifetime
    {
        public Replica Replica { get; private set; } = null!;

        public CapturedLogs Logs { get; } = new();

        public async Task InitializeAsync()
        {
            var postgres = await PostgresServer.StartedAsync();
            Replica = await Replica.StartAsync(await postgres.CreateDatabaseAsync("security"), configure: Logs.AddTo);
        }

        public async Task DisposeAsync() => await Replica.DisposeAsync();
    }
}
