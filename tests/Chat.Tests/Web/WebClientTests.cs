using Chat.Protocol;
using Chat.Tests.Integration;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Chat.Tests.Web;

/// <summary>
/// The web client in a real browser (Debian's chromium, headless) against the real cluster: two replicas behind nginx.
/// Users act through the page as people would; what is asserted is what the page shows.
/// </summary>
public sealed class WebClientTests(WebClusterFixture cluster) : IClassFixture<WebClusterFixture>
{
    [Fact]
    public async Task Two_browser_users_chat_through_nginx_across_replicas()
    {
        var (alice, bob) = await FriendsAsync();
        Assert.NotSame(cluster.ReplicaOf(alice.Id), cluster.ReplicaOf(bob.Id));

        await alice.OpenChatWithFriendAsync(bob.Id);
        await alice.SendAsync("Hello Bob, from the browser");
        await bob.ExpectUnreadAsync($"u{alice.Id}", 1);
        await bob.OpenChatAsync($"u{alice.Id}");
        await bob.ExpectMessageAsync("Hello Bob, from the browser");
        await bob.ExpectNoUnreadAsync($"u{alice.Id}");

        await bob.SendAsync("Hi Alice! <b>not bold</b>");
        await alice.ExpectMessageAsync("Hi Alice! <b>not bold</b>");
        Assert.Equal(0, await alice.Page.Locator("#message-list b").CountAsync()); // text stays text
        await Expect(alice.Friend(bob.Id).Locator(".presence")).ToHaveAttributeAsync("data-state", "online");

        await ScreenshotAsync(alice);
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
        var web = await RegisteredAsync("web");
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

    private async Task<WebChatUser> RegisteredAsync(string prefix, Uri? site = null)
    {
        var user = await cluster.NewUserAsync(site);
        var name = TestClient.Unique(prefix);
        await user.RegisterAsync(name, "pw-" + name);
        return user;
    }

    /// <summary>Two fresh browser users who have added each other.</summary>
    private async Task<(WebChatUser Alice, WebChatUser Bob)> FriendsAsync()
    {
        var alice = await RegisteredAsync("alice");
        var bob = await RegisteredAsync("bob", new Uri($"http://127.0.0.1:{cluster.B.HttpPort}/"));
        await alice.AddFriendAsync(bob.Id);
        await bob.AddFriendAsync(alice.Id);
        return (alice, bob);
    }

    /// <summary>With CHAT_SCREENSHOT set (a file path), saves what <paramref name="user"/> sees there: docs/web-client.png is made so.</summary>
    private static async Task ScreenshotAsync(WebChatUser user)
    {
        if (Environment.GetEnvironmentVariable("CHAT_SCREENSHOT") is { Length: > 0 } path)
        {
            await user.Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        }
    }
}
