using Chat.Protocol;
using Chat.Tests.Integration;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Chat.Tests.Web;

/// <summary>
/// The web client in a real browser (Debian's chromium, headless) against the real cluster: two replicas behind nginx.
/// Users act through the page as people would; what is asserted is what the page shows.
/// </summary>
public sealed class WebClientTests(WebClusterFixture cluster) : IClassFixture<WebClusterFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => cluster.CloseUsersAsync();

    [Fact]
    public async Task Two_browser_users_chat_through_nginx_across_replicas()
    {
        var (alice, bob) = await FriendsAsync("Alice Martin", "Bob Chen");
        Assert.NotSame(cluster.ReplicaOf(alice.Id), cluster.ReplicaOf(bob.Id));

        await alice.OpenChatWithFriendAsync(bob.Id);
        await alice.SendAsync("Hello Bob, from the browser");
        await bob.ExpectUnreadAsync($"u{alice.Id}", 1);
        await bob.OpenChatAsync($"u{alice.Id}");
        await bob.ExpectMessageAsync("Hello Bob, from the browser");
        await bob.ExpectNoUnreadAsync($"u{alice.Id}");

        await bob.SendAsync("Hi Alice! Is <b>this</b> bold?");
        await alice.ExpectMessageAsync("Hi Alice! Is <b>this</b> bold?");
        Assert.Equal(0, await alice.Page.Locator("#message-list b").CountAsync()); // text stays text
        await Expect(alice.Friend(bob.Id).Locator(".presence")).ToHaveAttributeAsync("data-state", "online");
        await alice.SendAsync("No: what you type is shown as text.\nLunch at noon?");
        await bob.ExpectMessageAsync("Lunch at noon?");

        await alice.Page.GetByRole(AriaRole.Tab, new() { Name = "Chats" }).ClickAsync();
        await ScreenshotAsync(alice);
    }

    [Fact]
    public async Task Reply_react_edit_and_recall_between_two_pages_on_different_replicas()
    {
        var (alice, bob) = await FriendsAsync();
        Assert.NotSame(cluster.ReplicaOf(alice.Id), cluster.ReplicaOf(bob.Id));
        await alice.OpenChatWithFriendAsync(bob.Id);
        await bob.OpenChatWithFriendAsync(alice.Id);
        await alice.SendAsync("Lunch at noon?");
        await bob.ExpectMessageAsync("Lunch at noon?");

        // A reply carries its quote, shown above the message on both pages.
        var seq = await bob.Page.Locator("#message-list > li:not(.mine)", new() { HasText = "Lunch at noon?" }).GetAttributeAsync("data-seq");
        var question = bob.Page.Locator($"#message-list > li[data-seq='{seq}']");
        await question.Locator("[data-action=reply]").ClickAsync();
        await Expect(bob.Page.Locator("#compose-context")).ToContainTextAsync("Replying to");
        await bob.SendAsync("Yes, see you there");
        var answer = alice.Page.Locator("#message-list > li:not(.mine)", new() { HasText = "Yes, see you there" });
        await Expect(answer.Locator(".quote")).ToContainTextAsync("Lunch at noon?");

        // A reaction shows with its count on both pages.
        await question.Locator("[data-react='👍']").ClickAsync();
        var mine = alice.Page.Locator("#message-list > li.mine", new() { HasText = "Lunch" });
        await Expect(mine.Locator(".reaction[data-emoji='👍'] .count")).ToHaveTextAsync("1");
        await Expect(question.Locator(".reaction[data-emoji='👍'] .count")).ToHaveTextAsync("1");

        // The author edits: the other page shows the new text, marked edited.
        await mine.Locator("[data-action=edit]").ClickAsync();
        var input = alice.Page.GetByLabel("Message", new() { Exact = true });
        await Expect(input).ToHaveValueAsync("Lunch at noon?");
        await input.FillAsync("Lunch at one?");
        await input.PressAsync("Enter");
        await Expect(mine.Locator(".text")).ToHaveTextAsync("Lunch at one?");
        await Expect(question.Locator(".text")).ToHaveTextAsync("Lunch at one?");
        await Expect(question.Locator(".edited")).ToBeVisibleAsync();

        // The author recalls: the text is gone from the other page, "Message recalled" in its place.
        var reply = bob.Page.Locator("#message-list > li.mine", new() { HasText = "Yes, see you there" });
        await reply.Locator("[data-action=recall]").ClickAsync();
        var recalled = alice.Page.Locator("#message-list > li.recalled");
        await Expect(recalled.Locator(".text")).ToHaveTextAsync("Message recalled");
        await Expect(alice.Page.Locator("#message-list")).Not.ToContainTextAsync("Yes, see you there");

        // A reloaded page folds the log from HISTORY: the edited text, the reaction, the tombstone.
        await bob.Page.ReloadAsync();
        await bob.ExpectSignedInAsync(bob.Name);
        await bob.OpenChatAsync($"u{alice.Id}");
        var folded = bob.Page.Locator("#message-list > li:not(.mine)", new() { HasText = "Lunch at one?" });
        await Expect(folded.Locator(".edited")).ToBeVisibleAsync();
        await Expect(folded.Locator(".reaction[data-emoji='👍'] .count")).ToHaveTextAsync("1");
        await Expect(bob.Page.Locator("#message-list > li.mine.recalled .text")).ToHaveTextAsync("Message recalled");
        Assert.Empty(alice.ScriptErrors);
        Assert.Empty(bob.ScriptErrors);
    }

    [Fact]
    public async Task A_reloaded_page_signs_in_by_itself_and_gets_what_it_missed()
    {
        var (alice, bob) = await FriendsAsync();
        await alice.OpenChatWithFriendAsync(bob.Id);
        await bob.OpenChatWithFriendAsync(alice.Id);
        await alice.SendAsync("before the reload");
        await bob.ExpectMessageAsync("before the reload");

        await bob.Page.GotoAsync("about:blank");
        await alice.SendAsync("missed one");
        await alice.SendAsync("missed two");
        await bob.OpenSiteAsync();

        await bob.ExpectSignedInAsync(bob.Name);
        await Expect(bob.Page.Locator("#login-form")).ToBeHiddenAsync();
        await bob.ExpectUnreadAsync($"u{alice.Id}", 2);
        await bob.OpenChatAsync($"u{alice.Id}");
        await bob.ExpectMessageAsync("missed two");
        await Expect(bob.Messages.Filter(new() { HasText = "missed" })).ToHaveTextAsync([new System.Text.RegularExpressions.Regex("missed one"), new System.Text.RegularExpressions.Regex("missed two")]);
    }

    [Fact]
    public async Task A_seed_protocol_tcp_user_talks_with_a_browser_user()
    {
        await using var seed = await TestClient.LoggedInAsync(cluster.ChatPort, TestClient.Unique("seed"));
        var web = await RegisteredAsync(TestClient.Unique("web"));
        await web.AddFriendAsync(seed.Id);
        await web.OpenChatWithFriendAsync(seed.Id);

        await web.SendAsync("hello seed client");
        var received = await seed.ReceiveAsync((int)MsgId.OneChat);
        Assert.Equal("hello seed client", (string?)received["msg"]);
        Assert.Equal(web.Id, (int)received["id"]!);
        Assert.Equal(web.Name, (string?)received["name"]);

        await seed.SendAsync(new { msgid = 6, id = seed.Id, from = seed.Name, toid = web.Id, msg = "hello browser", time = "2026-11-30 06:00:00" }, "\0");
        await web.ExpectMessageAsync("hello browser");
    }

    [Fact]
    public async Task Groups_are_created_joined_chatted_in_and_left()
    {
        var (alice, bob) = await FriendsAsync();
        var name = TestClient.Unique("team");
        var groupId = await alice.CreateGroupAsync(name);
        var signedIn = bob.LoginsAndLogouts;
        await bob.JoinGroupAsync(groupId);
        await Expect(bob.Page.Locator("#conv-title")).ToHaveTextAsync(name);
        Assert.Equal(signedIn, bob.LoginsAndLogouts); // the ACK carried the group and its members: no new login
        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Members", Exact = true }).ClickAsync();
        await Expect(bob.Page.Locator("#member-list")).ToContainTextAsync(alice.Name);
        await Expect(bob.Page.Locator("#member-list")).ToContainTextAsync("creator");
        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Members", Exact = true }).ClickAsync();
        await Expect(alice.Page.Locator("#member-list")).ToContainTextAsync(bob.Name); // pushed: no reload

        await bob.SendAsync("hello team");
        await alice.ExpectMessageAsync("hello team");
        await Expect(alice.Messages.Filter(new() { HasText = "hello team" }).Locator(".sender")).ToHaveTextAsync(bob.Name);

        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Leave group" }).ClickAsync();
        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Confirm leave" }).ClickAsync();
        await Expect(bob.Page.Locator($"#groups [data-group='{groupId}']")).ToHaveCountAsync(0);
        await Expect(alice.Page.Locator("#member-list")).Not.ToContainTextAsync(bob.Name);
        await alice.SendAsync("bob has gone");
        await bob.Page.ReloadAsync();
        await bob.ExpectSignedInAsync(bob.Name);
        await Expect(bob.Friend(alice.Id)).ToHaveCountAsync(1); // the LOGIN_ACK is in: it would have listed the group too
        await Expect(bob.Conversation($"g{groupId}")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Scrolling_up_loads_older_messages_page_by_page()
    {
        await using var seed = await TestClient.LoggedInAsync(cluster.ChatPort, TestClient.Unique("old"));
        var web = await RegisteredAsync(TestClient.Unique("reader"));
        for (var i = 1; i <= 120; i++)
        {
            await seed.SendAsync(new { msgid = 6, toid = web.Id, msg = $"old {i:000}" });
        }

        await web.ExpectUnreadAsync($"u{seed.Id}", 120);
        await web.Page.ReloadAsync(); // the page forgets them: from now on they come from the server's history
        await web.ExpectSignedInAsync(web.Name);
        await web.OpenChatAsync($"u{seed.Id}");
        await Expect(web.Messages).ToHaveCountAsync(50);
        await Expect(web.Messages.Last).ToContainTextAsync("old 120");

        await web.Page.Locator("#messages").EvaluateAsync("box => box.scrollTop = 0");
        await Expect(web.Messages).ToHaveCountAsync(100);
        await Expect(web.Messages.First).ToContainTextAsync("old 021");
        await web.Page.Locator("#messages").EvaluateAsync("box => box.scrollTop = 0");
        await Expect(web.Messages).ToHaveCountAsync(120);
        await Expect(web.Messages.First).ToContainTextAsync("old 001");
        await Expect(web.Page.Locator("#history-state")).ToHaveTextAsync("This is the beginning of the conversation.");
    }

    [Fact]
    public async Task Unread_badges_read_receipts_typing_and_presence()
    {
        var (alice, bob) = await FriendsAsync();
        await alice.OpenChatWithFriendAsync(bob.Id);
        foreach (var text in new[] { "one", "two", "three" })
        {
            await alice.SendAsync(text);
        }

        await bob.ExpectUnreadAsync($"u{alice.Id}", 3);
        await bob.Page.ReloadAsync(); // the page forgets its count: now it comes from the server (LOGIN_ACK convs)
        await bob.ExpectSignedInAsync(bob.Name);
        await bob.ExpectUnreadAsync($"u{alice.Id}", 3);
        await alice.ExpectReceiptAsync("three", "Sent");

        await bob.OpenChatAsync($"u{alice.Id}");
        await bob.ExpectNoUnreadAsync($"u{alice.Id}");
        await alice.ExpectReceiptAsync("three", "Read");

        await alice.Page.GetByLabel("Message", new() { Exact = true }).PressSequentiallyAsync("still typ");
        await bob.ExpectTypingAsync(alice.Name);

        await bob.Page.GotoAsync("about:blank");
        await Expect(alice.Friend(bob.Id).Locator(".presence")).ToHaveAttributeAsync("data-state", "offline");
        await bob.OpenSiteAsync();
        await bob.ExpectSignedInAsync(bob.Name);
        await Expect(alice.Friend(bob.Id).Locator(".presence")).ToHaveAttributeAsync("data-state", "online");
        await Expect(bob.Conversation($"u{alice.Id}")).ToBeVisibleAsync();
        await bob.ExpectNoUnreadAsync($"u{alice.Id}"); // the read mark is the server's, not the page's
    }

    private async Task<WebChatUser> RegisteredAsync(string name)
    {
        var user = await cluster.NewUserAsync();
        await user.RegisterAsync(name, "pw-" + name);
        return user;
    }

    /// <summary>Two fresh browser users who have added each other (their names unique unless given).</summary>
    private async Task<(WebChatUser Alice, WebChatUser Bob)> FriendsAsync(string? aliceName = null, string? bobName = null)
    {
        var alice = await RegisteredAsync(aliceName ?? TestClient.Unique("alice"));
        var bob = await RegisteredAsync(bobName ?? TestClient.Unique("bob"));
        var signedIn = (alice.LoginsAndLogouts, bob.LoginsAndLogouts);
        await alice.AddFriendAsync(bob.Id);
        await bob.AddFriendAsync(alice.Id);
        Assert.Equal(signedIn, (alice.LoginsAndLogouts, bob.LoginsAndLogouts)); // the ACK told the name and state: no new login
        return (alice, bob);
    }

    /// <summary>With CHAT_SCREENSHOT set (a file path), saves what <paramref name="user"/> sees there: docs/web-client.png is made so.</summary>
    private static async Task ScreenshotAsync(WebChatUser user)
    {
        if (Environment.GetEnvironmentVariable("CHAT_SCREENSHOT") is { Length: > 0 } path)
        {
            await user.Page.EvaluateAsync("() => document.querySelectorAll('.toast').forEach(t => t.remove())"); // transient notes
            await user.Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        }
    }
}
