using System.Text;
using Chat.Tests.Files;
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
}
