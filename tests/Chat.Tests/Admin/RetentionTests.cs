using Chat.Domain;
using Chat.Persistence;
using Chat.Server.Admin;
using Chat.Server.Files;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Admin;

/// <summary>
/// Retention (<c>Chat:Retention:Days</c>) on a replica of each engine: a pass erases exactly the entries older than
/// the limit, with the events that name them (even newer ones), their reactions and their files (a file another kept
/// message holds stays), and nothing newer; HISTORY then shows what is kept. One replica at a time: while another holds
/// the database lease, a pass does nothing.
/// </summary>
public sealed class RetentionTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_pass_erases_exactly_what_is_older_with_its_events_reactions_and_files(string provider)
    {
        var database = await TestDatabase.CreateAsync(provider, "retention");
        await using var replica = await Replica.StartAsync(database, new Dictionary<string, string?>
        {
            ["Chat:Retention:Days"] = "2",
            ["Chat:Retention:Interval"] = "1.00:00:00",
            ["Chat:Retention:BatchSize"] = "2", // several batches
            ["Chat:Retention:Pause"] = "00:00:00",
        });
        var services = replica.Services;
        var (alice, bob) = (await RegisterAsync(services, "alice"), await RegisterAsync(services, "bob"));
        var group = await WithAsync<IChatStore, int>(services, async s => (await s.CreateGroupAsync(alice, TestClient.Unique("g"), "d", null, None))!.Value);
        var now = DateTimeOffset.UtcNow;
        var old = now.AddDays(-3).ToUnixTimeMilliseconds();
        var recent = now.AddHours(-1).ToUnixTimeMilliseconds();
        var direct = ConversationId.Direct(alice, bob);
        var groupConversation = ConversationId.Group(group);

        var (onlyOld, shared) = (await FileAsync(services, alice, "only-old.txt"), await FileAsync(services, alice, "shared.txt"));
        var files = services.GetRequiredService<FileService>();

        var s1 = await AppendAsync(services, direct, alice, bob, "old one", old);
        await files.LinkAsync(direct, s1, onlyOld, None);
        var s2 = await AppendAsync(services, direct, alice, bob, "old two", old + 1);
        await files.LinkAsync(direct, s2, shared, None);
        var s3 = await AppendAsync(services, direct, bob, alice, "👍", old + 2, EntryKind.React, s1);
        var s4 = await AppendAsync(services, direct, alice, bob, "new one", recent);
        await files.LinkAsync(direct, s4, shared, None);
        var s5 = await AppendAsync(services, direct, bob, alice, "❤️", recent + 1, EntryKind.React, s2); // newer, of an old message
        var s6 = await AppendAsync(services, direct, alice, bob, "new one, edited", recent + 2, EntryKind.Edit, s4);
        var s7 = await AppendAsync(services, direct, bob, alice, "🎉", recent + 3, EntryKind.React, s4);
        var g1 = await AppendAsync(services, groupConversation, alice, group, "old in the group", old + 3);
        var g2 = await AppendAsync(services, groupConversation, alice, group, "new in the group", recent + 4);
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7, 1, 2], new[] { s1, s2, s3, s4, s5, s6, s7, g1, g2 });

        var retention = services.GetRequiredService<RetentionService>();

        // Another replica holds the lock: this one erases nothing.
        Assert.True(await WithAsync<LeaseStore, bool>(services, l => l.TryHoldAsync(RetentionService.LeaseName, "other-replica", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), TimeSpan.FromMinutes(5), None)));
        Assert.Null(await retention.RunOnceAsync(None));
        Assert.Equal(9, await database.ScalarAsync("SELECT COUNT(*) FROM messages"));
        await WithAsync<LeaseStore, bool>(services, async l => { await l.ReleaseAsync(RetentionService.LeaseName, "other-replica", None); return true; });

        // The entries stamped before the limit: s1, s2, s3 and g1; and s5, which names s2, though newer.
        int? erased = null;
        await Wait.UntilAsync(async () => (erased = await retention.RunOnceAsync(None)) is not null, TimeSpan.FromSeconds(30), "the retention lease");
        Assert.Equal(5, erased);

        Assert.Equal([s4, s6, s7], await SeqsAsync(database, direct));
        Assert.Equal([g2], await SeqsAsync(database, groupConversation));
        Assert.Equal(0, await database.ScalarAsync("SELECT COUNT(*) FROM reactions WHERE conversation_id = @p0 AND seq <> @p1", direct, s4));
        Assert.Equal(1, await database.ScalarAsync("SELECT COUNT(*) FROM reactions WHERE conversation_id = @p0 AND seq = @p1", direct, s4));
        Assert.Equal(0, await database.ScalarAsync("SELECT COUNT(*) FROM files WHERE id = @p0", onlyOld));
        Assert.Equal(0, await database.ScalarAsync("SELECT COUNT(*) FROM file_chunks WHERE file_id = @p0", onlyOld));
        Assert.Equal(1, await database.ScalarAsync("SELECT COUNT(*) FROM files WHERE id = @p0", shared));
        Assert.True(await database.ScalarAsync("SELECT COUNT(*) FROM file_chunks WHERE file_id = @p0", shared) > 0);
        Assert.Equal(0, await database.ScalarAsync("SELECT COUNT(*) FROM message_files WHERE conversation_id = @p0 AND seq <> @p1", direct, s4));

        // What HISTORY shows of it: the kept message as it stands, with its file, edit and reaction.
        var page = (await WithAsync<IChatStore, MessagePage?>(services, s => s.HistoryAsync(bob, direct, null, 50, None)))!;
        var kept = Assert.Single(page.Messages);
        Assert.Equal((s4, "new one, edited", "shared.txt", "🎉"), (kept.Seq, kept.Message.Body, kept.Message.File?.Name, kept.Reactions.Single().Emoji));
        Assert.False(page.More);
        Assert.Equal(s4, page.Start); // HISTORY says where the conversation starts now

        // Nothing more is old: a second pass erases nothing.
        Assert.Equal(0, await retention.RunOnceAsync(None));
        Assert.Equal(4, await database.ScalarAsync("SELECT COUNT(*) FROM messages"));
    }

    private static async Task<List<long>> SeqsAsync(TestDatabase database, long conversation)
    {
        var seqs = new List<long>();
        for (var seq = 1L; seq <= 10; seq++)
        {
            if (await database.ScalarAsync("SELECT COUNT(*) FROM messages WHERE conversation_id = @p0 AND seq = @p1", conversation, seq) > 0)
            {
                seqs.Add(seq);
            }
        }

        return seqs;
    }

    private static async Task<TResult> WithAsync<TService, TResult>(IServiceProvider services, Func<TService, Task<TResult>> action)
        where TService : notnull
    {
        await using var scope = services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<TService>());
    }

    private static Task<int> RegisterAsync(IServiceProvider services, string name) =>
        WithAsync<IChatStore, int>(services, async s => (await s.RegisterAsync(TestClient.Unique(name), "hash", None))!.Value);

    private static async Task<long> AppendAsync(IServiceProvider services, long conversation, int sender, int target, string body, long ts, EntryKind kind = EntryKind.Message, long? @ref = null)
    {
        var message = new ChatMessage(conversation, sender, "user" + sender, target, body, "then", ts, null) { Kind = kind, Ref = @ref };
        return (await services.GetRequiredService<IMessageWriter>().AppendAsync(message, None)).Stored.Seq;
    }

    /// <summary>A file of <paramref name="uploader"/>'s, stored as an upload stores it (bytes, then record).</summary>
    private static async Task<string> FileAsync(IServiceProvider services, int uploader, string name)
    {
        var id = FileService.NewId();
        var bytes = "some bytes"u8.ToArray();
        using var content = new MemoryStream(bytes);
        await services.GetRequiredService<IBlobStore>().WriteAsync(id, BlobPart.File, content, None);
        await WithAsync<IFileCatalog, bool>(services, async c =>
        {
            await c.AddAsync(new FileRecord(id, uploader, name, "text/plain", bytes.Length, null, 0, DateTime.UtcNow, null), None);
            return true;
        });
        return id;
    }
}
