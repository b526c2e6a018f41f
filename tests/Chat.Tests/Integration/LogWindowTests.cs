using Chat.Tests.Infrastructure;

namespace Chat.Tests.Integration;

/// <summary>
/// Chat:Messages windows and limits (issue 21) on one replica: an edit or recall past its window is errno 13, nothing
/// stored; a group's creator may still recall; a user's distinct emoji on a message are capped (errno 4).
/// </summary>
public sealed class LogWindowTests
{
    [Fact]
    public async Task Past_its_window_an_author_may_neither_edit_nor_recall_but_the_groups_creator_may_recall()
    {
        var database = await TestDatabase.CreateAsync("sqlite", "window");
        await using var replica = await Replica.StartAsync(database, new Dictionary<string, string?>
        {
            ["Chat:Messages:EditWindow"] = "00:00:00",
            ["Chat:Messages:RecallWindow"] = "00:00:00",
            ["Chat:Messages:MaxEmojiPerUser"] = "2",
        });
        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"), v: 2);
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"), v: 2);
        var group = (int)(await alice.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("g"), cid = "c" }))["groupid"]!;
        await Cluster.Devices.JoinInTurnAsync(group, [alice], bob);

        var sent = await bob.RequestAsync(new { msgid = 10, groupid = group, msg = "b1", cid = "1" });
        var seq = (long)sent["seq"]!;
        await alice.ReceiveAsync(10);
        await Task.Delay(5); // a window of zero has passed for certain

        var edit = await bob.RequestAsync(new { msgid = 24, groupid = group, seq, msg = "b1!", cid = "2" });
        var recall = await bob.RequestAsync(new { msgid = 25, groupid = group, seq, cid = "3" });
        Assert.Equal((13, "the message is too old to edit"), ((int)edit["errno"]!, (string)edit["errmsg"]!));
        Assert.Equal((13, "the message is too old to recall"), ((int)recall["errno"]!, (string)recall["errmsg"]!));
        Assert.Null(edit["seq"]);

        Assert.Equal(0, (int)(await alice.RequestAsync(new { msgid = 26, groupid = group, seq, emoji = "👍", cid = "4" }))["errno"]!);
        Assert.Equal(0, (int)(await alice.RequestAsync(new { msgid = 26, groupid = group, seq, emoji = "❤️", cid = "5" }))["errno"]!);
        var third = await alice.RequestAsync(new { msgid = 26, groupid = group, seq, emoji = "😂", cid = "6" });
        Assert.Equal((4, "at most 2 different emoji per message"), ((int)third["errno"]!, (string)third["errmsg"]!));

        var byCreator = await alice.RequestAsync(new { msgid = 25, groupid = group, seq, cid = "7" });
        Assert.Equal((0, seq + 3), ((int)byCreator["errno"]!, (long)byCreator["seq"]!)); // nothing stored by the refusals
        Assert.Equal(26, (int)(await bob.ReceiveAsync(26))["msgid"]!);
        await bob.ReceiveAsync(26);
        Assert.Equal(seq, (long)(await bob.ReceiveAsync(25))["ref"]!);
        await bob.AssertNothingPendingAsync();
    }
}
