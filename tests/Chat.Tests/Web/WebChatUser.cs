using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Chat.Protocol;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Chat.Tests.Web;

/// <summary>
/// One person using the web client in a browser page: every step is what they would do (fill a labelled field,
/// press a button) and every check is what they would see, waited for with a deadline (Playwright's expectations
/// poll the DOM until <see cref="Deadline"/>, set as their default by <see cref="WebClusterFixture"/>), never a sleep.
/// </summary>
public sealed partial class WebChatUser
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly Uri _site;
    private readonly List<string> _scriptErrors = [];
    private int _loginsAndLogouts;

    public WebChatUser(IPage page, Uri site)
    {
        Page = page;
        _site = site;
        page.SetDefaultTimeout((float)Deadline.TotalMilliseconds); // actions (click, fill) wait for their element as long
        page.WebSocket += (_, socket) => socket.FrameSent += (_, frame) =>
        {
            if (frame.Text is { } text && JsonNode.Parse(text)?["msgid"]?.GetValue<int>() is (int)MsgId.Login or (int)MsgId.LoginOut)
            {
                Interlocked.Increment(ref _loginsAndLogouts);
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_scriptErrors)
            {
                _scriptErrors.Add(error);
            }
        };
    }

    public IPage Page { get; }

    /// <summary>Uncaught script errors the page had: a working client has none.</summary>
    public IReadOnlyList<string> ScriptErrors
    {
        get
        {
            lock (_scriptErrors)
            {
                return [.. _scriptErrors];
            }
        }
    }

    /// <summary>LOGIN and LOGINOUT frames the page has sent: the user's friends see each pair as going offline and online.</summary>
    public int LoginsAndLogouts => Volatile.Read(ref _loginsAndLogouts);

    public int Id { get; private set; }

    public string Name { get; private set; } = "";

    /// <summary>The message list of the open conversation.</summary>
    public ILocator Messages => Page.Locator("#message-list > li");

    /// <summary>Opens the site and creates an account; the client then signs in by itself.</summary>
    public async Task RegisterAsync(string name, string password)
    {
        await OpenSiteAsync();
        await Page.GetByRole(AriaRole.Tab, new() { Name = "Create account" }).ClickAsync();
        var form = Page.Locator("#register-form");
        await form.GetByLabel("Name").FillAsync(name);
        await form.GetByLabel("Password").FillAsync(password);
        await form.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await ExpectSignedInAsync(name);
    }

    public async Task SignInAsync(int id, string password)
    {
        var form = Page.Locator("#login-form");
        await form.GetByLabel("User id").FillAsync(id.ToString(CultureInfo.InvariantCulture));
        await form.GetByLabel("Password").FillAsync(password);
        await form.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    public Task OpenSiteAsync() => Page.GotoAsync(_site.ToString());

    /// <summary>Waits until the app shows this user signed in (their name and id in the sidebar).</summary>
    public async Task ExpectSignedInAsync(string name)
    {
        await Expect(Page.Locator("#me-name")).ToHaveTextAsync(name);
        await Expect(Page.Locator("#link")).ToHaveAttributeAsync("data-state", "open");
        Name = name;
        Id = int.Parse(IdPattern().Match(await Page.Locator("#me-id").InnerTextAsync()).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    public async Task AddFriendAsync(int id)
    {
        await Page.GetByRole(AriaRole.Tab, new() { Name = "Friends" }).ClickAsync();
        await Page.GetByLabel("Friend's user id").FillAsync(id.ToString(CultureInfo.InvariantCulture));
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add friend" }).ClickAsync();
        await Expect(Friend(id)).ToBeVisibleAsync();
    }

    /// <summary>Creates a group from the Groups tab; returns its id, which the page announces.</summary>
    public async Task<int> CreateGroupAsync(string name)
    {
        await Page.GetByRole(AriaRole.Tab, new() { Name = "Groups" }).ClickAsync();
        await Page.GetByLabel("New group name").FillAsync(name);
        await Page.GetByLabel("New group description").FillAsync("Where " + name + " meets");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create group" }).ClickAsync();
        await Expect(Page.Locator("#conv-title")).ToHaveTextAsync(name); // the page opens the new group
        var row = Page.Locator("#groups [data-group]", new() { HasText = name });
        return int.Parse(await row.GetAttributeAsync("data-group") ?? "", CultureInfo.InvariantCulture);
    }

    /// <summary>Joins group <paramref name="id"/> from the Groups tab; the page then opens its conversation.</summary>
    public async Task JoinGroupAsync(int id)
    {
        await Page.GetByRole(AriaRole.Tab, new() { Name = "Groups" }).ClickAsync();
        await Page.GetByLabel("Group id to join").FillAsync(id.ToString(CultureInfo.InvariantCulture));
        await Page.GetByRole(AriaRole.Button, new() { Name = "Join group" }).ClickAsync();
        await Expect(Page.Locator($"#groups [data-group='{id}']")).ToHaveCountAsync(1);
        await Expect(Page.Locator("#conv-title")).Not.ToHaveTextAsync($"Group {id}"); // its name, once the page knows it
    }

    /// <summary>A friend's row in the Friends list.</summary>
    public ILocator Friend(int id) => Page.Locator($"#friends [data-user='{id}']");

    /// <summary>A conversation's row in the Chats list (<c>u7</c>: with user 7; <c>g3</c>: group 3).</summary>
    public ILocator Conversation(string key) => Page.Locator($"#conversations [data-conv='{key}']");

    /// <summary>Opens the conversation with friend <paramref name="id"/> from the Friends list.</summary>
    public async Task OpenChatWithFriendAsync(int id)
    {
        await Page.GetByRole(AriaRole.Tab, new() { Name = "Friends" }).ClickAsync();
        await Friend(id).ClickAsync();
        await Expect(Page.Locator("#conv-title")).ToHaveTextAsync(new Regex(".+"));
    }

    /// <summary>Opens a conversation from the Chats list, as someone who sees its row there would.</summary>
    public async Task OpenChatAsync(string key)
    {
        await Page.GetByRole(AriaRole.Tab, new() { Name = "Chats" }).ClickAsync();
        await Conversation(key).ClickAsync();
    }

    /// <summary>Types and sends <paramref name="text"/> in the open conversation; returns once the server stored it.</summary>
    public async Task SendAsync(string text)
    {
        var input = Page.GetByLabel("Message", new() { Exact = true });
        await input.FillAsync(text);
        await input.PressAsync("Enter");
        var mine = Page.Locator("#message-list > li.mine", new() { HasText = text });
        await Expect(mine.Locator(".receipt")).Not.ToHaveTextAsync(new Regex("Sending"));
        await Expect(mine).ToHaveAttributeAsync("data-seq", new Regex("^[0-9]+$"));
    }

    /// <summary>Waits until the open conversation shows a message containing <paramref name="text"/>.</summary>
    public Task ExpectMessageAsync(string text) =>
        Expect(Page.Locator("#message-list > li", new() { HasText = text })).ToBeVisibleAsync();

    public Task ExpectUnreadAsync(string key, int count) =>
        Expect(Conversation(key).Locator(".badge")).ToHaveTextAsync(count.ToString(CultureInfo.InvariantCulture));

    public Task ExpectNoUnreadAsync(string key) =>
        Expect(Conversation(key).Locator(".badge")).ToHaveCountAsync(0);

    public Task ExpectTypingAsync(string name) =>
        Expect(Page.Locator("#typing")).ToContainTextAsync($"{name} is typing");

    /// <summary>Waits until the last message this user sent in the open conversation shows <paramref name="status"/> ("Sent", "Read").</summary>
    public Task ExpectReceiptAsync(string text, string status) =>
        Expect(Page.Locator("#message-list > li.mine", new() { HasText = text }).Locator(".receipt")).ToContainTextAsync(status);

    [GeneratedRegex("#([0-9]+)")]
    private static partial Regex IdPattern();
}
