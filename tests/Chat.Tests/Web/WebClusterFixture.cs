using Chat.Server.Hub;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Chat.Tests.Web;

/// <summary>
/// The production topology for browsers: two replicas (MariaDB, Redis) behind nginx, whose http server serves the web
/// client and proxies <c>/ws</c>, plus one headless chromium for the whole test class. Each test makes users of its own.
/// </summary>
public sealed class WebClusterFixture : IAsyncLifetime
{
    private readonly ClusterFixture _cluster = new();
    private readonly List<WebChatUser> _users = [];

    public HeadlessChromium Chromium { get; private set; } = null!;

    public Replica A => _cluster.A;

    public Replica B => _cluster.B;

    /// <summary>nginx's stream port, for seed-protocol TCP clients.</summary>
    public int ChatPort => _cluster.Nginx.Port;

    /// <summary>The web client as users reach it: through nginx.</summary>
    public Uri Site { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Every expectation on a page waits for its condition up to the deadline the raw-protocol tests use.
        Assertions.SetDefaultExpectTimeout((float)WebChatUser.Deadline.TotalMilliseconds);
        await _cluster.InitializeAsync();
        Chromium = await HeadlessChromium.LaunchAsync();
        Site = new Uri($"http://127.0.0.1:{_cluster.Nginx.HttpPort}/");
    }

    /// <summary>A person with a browser of their own (own localStorage), on the site.</summary>
    public async Task<WebChatUser> NewUserAsync(int width = 1200, int height = 760)
    {
        var user = new WebChatUser(await Chromium.NewPageAsync(width, height), Site);
        _users.Add(user);
        return user;
    }

    /// <summary>
    /// Closes every user's browser and waits until no replica holds a session: the next test starts with nginx's
    /// <c>least_conn</c> counting no connection, so its first two users land on different replicas. A page that had an
    /// uncaught script error fails the test here.
    /// </summary>
    public async Task CloseUsersAsync()
    {
        var errors = _users.SelectMany(u => u.ScriptErrors).ToList();
        foreach (var user in _users)
        {
            await user.Page.Context.CloseAsync();
        }

        _users.Clear();
        Assert.True(errors.Count == 0, "script errors in the page:\n" + string.Join("\n", errors));
        await Wait.UntilAsync(
            () => A.Services.GetRequiredService<ChatHub>().UserCount + B.Services.GetRequiredService<ChatHub>().UserCount == 0,
            WebChatUser.Deadline,
            "every browser user's session to end");
    }

    /// <summary>The replica that holds <paramref name="userId"/>'s session, or null while none does.</summary>
    public Replica? ReplicaOf(int userId) =>
        new[] { A, B }.SingleOrDefault(r => r.Services.GetRequiredService<ChatHub>().Find(userId) is not null);

    public async Task DisposeAsync()
    {
        if (Chromium is not null)
        {
            await Chromium.DisposeAsync();
        }

        await _cluster.DisposeAsync();
    }
}
