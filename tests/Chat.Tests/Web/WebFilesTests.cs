using System.Text;
using Chat.Protocol;
using Chat.Sdk;
using Chat.Tests.Files;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Chat.Tests.Web;

/// <summary>Files and people in the web client, in headless chromium, against two replicas behind nginx.</summary>
public sealed class WebFilesTests(WebClusterFixture cluster) : IClassFixture<WebClusterFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => cluster.CloseUsersAsync();

    private async Task<WebChatUser> RegisteredAsync(string name)
    {
        var user = await cluster.NewUserAsync();
        await user.OpenSiteAsync();
        await user.RegisterAsync(name, "pw-" + name);
        return user;
    }

    [Fact]
    public async Task An_image_shows_inline_on_the_other_page_and_a_file_downloads_from_its_link()
    {
        var alice = await RegisteredAsync(TestClient.Unique("alice"));
        var bob = await RegisteredAsync(TestClient.Unique("bob"));
        await alice.AddFriendAsync(bob.Id);
        await bob.AddFriendAsync(alice.Id);
        await alice.OpenChatWithFriendAsync(bob.Id);
        await bob.OpenChatWithFriendAsync(alice.Id);

        // The picker: an image and a text file.
        var text = "meeting notes\nline two\n";
        await alice.Page.Locator("#file-input").SetInputFilesAsync(new[]
        {
            new FilePayload { Name = "photo.jpg", MimeType = "image/jpeg", Buffer = TestImages.JpegWithExif(640, 320) },
            new FilePayload { Name = "notes.txt", MimeType = "text/plain", Buffer = Encoding.UTF8.GetBytes(text) },
        });

        var image = bob.Page.Locator("#message-list img.thumb[alt='photo.jpg']");
        await Expect(image).ToBeVisibleAsync();
        await Expect(image).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^blob:"));
        // The thumbnail decoded, upright (the EXIF orientation turned 640x320 into 160x320).
        await bob.Page.WaitForFunctionAsync("() => { const i = document.querySelector(\"#message-list img.thumb[alt='photo.jpg']\"); return i && i.complete && i.naturalWidth === 160 && i.naturalHeight === 320; }");

        // Full size on click.
        await image.ClickAsync();
        await bob.Page.WaitForFunctionAsync("() => { const i = document.getElementById('viewer-img'); return document.getElementById('viewer').open && i.complete && i.naturalWidth === 320 && i.naturalHeight === 640; }");
        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();

        var link = bob.Page.Locator("#message-list a.file-link", new() { HasText = "notes.txt" });
        await Expect(link).ToBeVisibleAsync();
        var download = await bob.Page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        Assert.Equal("notes.txt", download.SuggestedFilename);
        var path = await download.PathAsync();
        Assert.Equal(text, await File.ReadAllTextAsync(path));

        // The sender's own page shows them too.
        await Expect(alice.Page.Locator("#message-list img.thumb[alt='photo.jpg']")).ToBeVisibleAsync();
        await Expect(alice.Page.Locator("#message-list a.file-link", new() { HasText = "notes.txt" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Find_people_add_one_as_a_friend_and_see_their_about()
    {
        var stem = "Wf" + Guid.NewGuid().ToString("N")[..8];
        var alice = await RegisteredAsync(stem + "alice");
        var bob = await RegisteredAsync(TestClient.Unique("bob"));

        await alice.Page.GetByRole(AriaRole.Tab, new() { Name = "Friends" }).ClickAsync();
        await alice.Page.GetByLabel("About you").FillAsync("likes tea");
        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Save profile" }).ClickAsync();
        await Expect(alice.Page.Locator(".toast", new() { HasText = "Profile saved" })).ToBeVisibleAsync();

        await bob.Page.GetByRole(AriaRole.Tab, new() { Name = "Friends" }).ClickAsync();
        await bob.Page.GetByLabel("Find people").FillAsync(stem.ToLowerInvariant());
        await bob.Page.GetByRole(AriaRole.Button, new() { Name = "Find", Exact = true }).ClickAsync();
        var row = bob.Page.Locator($"#found [data-found='{alice.Id}']");
        await Expect(row).ToContainTextAsync("likes tea");
        await row.GetByRole(AriaRole.Button, new() { Name = "Add" }).ClickAsync();
        await Expect(bob.Friend(alice.Id)).ToBeVisibleAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = "Block" }).ClickAsync();
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Unblock" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Someone_blocked_is_listed_after_a_reload_and_unblocked_from_the_list_then_their_messages_arrive_again()
    {
        var stem = "Wb" + Guid.NewGuid().ToString("N")[..8];
        var web = await RegisteredAsync(TestClient.Unique("blocker"));
        await using var stranger = new ChatSession(new Uri($"tcp://127.0.0.1:{cluster.ChatPort}"));
        var strangerName = stem + "stranger";
        var strangerId = await stranger.RegisterAsync(strangerName, "pw-" + strangerName);
        await stranger.LoginAsync(strangerId, password: "pw-" + strangerName);
        await stranger.SendAsync(web.Id, "hello from a stranger");
        await web.ExpectUnreadAsync($"u{strangerId}", 1);

        // Blocked from FIND's results (no friend of theirs): the Blocked list shows them at once.
        await web.Page.GetByRole(AriaRole.Tab, new() { Name = "Friends" }).ClickAsync();
        await web.Page.GetByLabel("Find people").FillAsync(stem.ToLowerInvariant());
        await web.Page.GetByRole(AriaRole.Button, new() { Name = "Find", Exact = true }).ClickAsync();
        await web.Page.Locator($"#found [data-found='{strangerId}']").GetByRole(AriaRole.Button, new() { Name = "Block" }).ClickAsync();
        var listed = web.Page.Locator($"#blocked [data-blocked='{strangerId}']");
        await Expect(listed).ToContainTextAsync(strangerName);
        await Wait.UntilAsync(() => RefusedAsync(stranger, web.Id, "probe"), WebChatUser.Deadline, "the stranger's ONE_CHAT refused (errno 13)");

        // A reload forgets FIND's results; the list comes from LOGIN_ACK's `blocked`, and Unblock works from there.
        await web.Page.ReloadAsync();
        await web.ExpectSignedInAsync(web.Name);
        await web.Page.GetByRole(AriaRole.Tab, new() { Name = "Friends" }).ClickAsync();
        await Expect(web.Page.Locator("#found > li")).ToHaveCountAsync(0);
        await Expect(listed).ToContainTextAsync($"#{strangerId}");
        await listed.GetByRole(AriaRole.Button, new() { Name = "Unblock" }).ClickAsync();
        await Expect(listed).ToHaveCountAsync(0);
        await Expect(web.Page.Locator("#blocked")).ToContainTextAsync("Nobody blocked.");

        // Their messages arrive again (a replica rereads a user's blocks within a second).
        await Wait.UntilAsync(async () => !await RefusedAsync(stranger, web.Id, "back again"), WebChatUser.Deadline, "the stranger's ONE_CHAT taken again");
        await web.OpenChatAsync($"u{strangerId}");
        await web.ExpectMessageAsync("back again");
    }

    /// <summary>Sends <paramref name="text"/>; true when the server refused it because the peer blocked the sender.</summary>
    private static async Task<bool> RefusedAsync(ChatSession from, int to, string text)
    {
        try
        {
            await from.SendAsync(to, text);
            return false;
        }
        catch (ChatException ex) when (ex.Errno == ErrorCode.NotAllowed)
        {
            return true;
        }
    }
}
