using System.Collections.Concurrent;
using System.Text;
using Chat.Domain;
using Chat.Server;
using Chat.Server.Hosting;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Telemetry;

/// <summary>
/// Everything a replica logs at Trace level, scopes and exceptions included, for a session that registers, fails and
/// succeeds a login (by password and by session token), chats one-to-one and in a group: no password, token, hash or
/// message text appears, and the lines of a logged-in connection carry its connection, replica and user.
/// </summary>
public sealed class LogPrivacyTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    [Fact]
    public async Task Logs_carry_the_connection_scope_and_never_passwords_hashes_or_message_text()
    {
        var capture = new CapturingLoggerProvider();
        var settings = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Trace",
            ["Logging:LogLevel:Npgsql"] = "Trace",
        };
        await using var replica = await Replica.StartAsync(fixture.Database, settings, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Logging.AddProvider(capture);
        });
        var password = "pw-" + Guid.NewGuid().ToString("N");
        var wrongPassword = "wrong-" + Guid.NewGuid().ToString("N");
        var text = "text-" + Guid.NewGuid().ToString("N");
        var groupText = "group-" + Guid.NewGuid().ToString("N");

        await using var alice = await TestClient.ConnectAsync(replica.ChatPort);
        var aliceId = await alice.RegisterAsync(TestClient.Unique("alice"), password);
        Assert.Equal(1, (int)(await alice.LoginAsync(aliceId, wrongPassword))["errno"]!);
        Assert.Equal(0, (int)(await alice.LoginAsync(aliceId, password))["errno"]!);
        await alice.RequestAsync(new Chat.Protocol.LogoutRequest { Cid = Chat.Protocol.Cid.From("o1") });
        var token = (string)(await alice.LoginAsync(aliceId, password, v: 2))["token"]!;
        await alice.RequestAsync(new Chat.Protocol.LogoutRequest { Cid = Chat.Protocol.Cid.From("o2") });
        var wrongToken = Chat.Domain.SessionToken.New();
        Assert.Equal(1, (int)(await alice.RequestAsync(new Chat.Protocol.LoginRequest(aliceId, null, 2) { Token = wrongToken }))["errno"]!);
        Assert.Equal(0, (int)(await alice.RequestAsync(new Chat.Protocol.LoginRequest(aliceId, null, 2) { Token = token }))["errno"]!);
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));
        await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = text, cid = "m1" });
        await alice.ReceiveAsync(11);
        await bob.ReceiveAsync(6);
        var groupId = (int)(await alice.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("g"), cid = "g" }))["groupid"]!;
        await bob.RequestAsync(new { msgid = 9, groupid = groupId, cid = "j" });
        await alice.ReceiveAsync(9); // bob joined: alice's session is v2
        await alice.SendAsync(new { msgid = 10, groupid = groupId, msg = groupText, cid = "m2" });
        await alice.ReceiveAsync(11);
        await bob.ReceiveAsync(10);
        await alice.SendAsync(new { msgid = 7, friendid = bob.Id, cid = "f" });
        await alice.ReceiveAsync(11);

        string hash;
        await using (var scope = replica.Services.CreateAsyncScope())
        {
            hash = (await scope.ServiceProvider.GetRequiredService<IChatStore>().FindUserAsync(aliceId, CancellationToken.None))!.PasswordHash;
        }

        var entries = capture.Entries.ToArray();
        Assert.True(entries.Length > 50, $"only {entries.Length} log entries at Trace level");
        foreach (var secret in new[] { password, wrongPassword, hash, text, groupText, token, SessionToken.Hash(token), wrongToken, SessionToken.Hash(wrongToken) })
        {
            Assert.DoesNotContain(entries, e => e.Text.Contains(secret, StringComparison.Ordinal));
        }

        var replicaId = replica.Services.GetRequiredService<IOptions<ChatServerOptions>>().Value.ReplicaId;
        Assert.Contains(entries, e =>
            Equals(e.Scope.GetValueOrDefault("UserId"), aliceId) &&
            Equals(e.Scope.GetValueOrDefault("ReplicaId"), replicaId) &&
            e.Scope.GetValueOrDefault("ConnectionId") is string);
    }

    public sealed record Entry(string Text, IReadOnlyDictionary<string, object?> Scope);

    /// <summary>Keeps every log entry as text (category, message, state, exception, scopes) plus its scope values.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var text = new StringBuilder().Append(category).Append(' ').Append(eventId).Append(' ').Append(formatter(state, exception));
                Append(text, state);
                text.Append(' ').Append(exception);
                var scope = new Dictionary<string, object?>();
                provider._scopes.ForEachScope(
                    (s, _) =>
                    {
                        text.Append(" => ").Append(s);
                        Append(text, s);
                        if (s is IEnumerable<KeyValuePair<string, object?>> values)
                        {
                            foreach (var (key, value) in values)
                            {
                                scope[key] = value;
                            }
                        }
                    },
                    (object?)null);
                provider.Entries.Enqueue(new Entry(text.ToString(), scope));
            }

            private static void Append(StringBuilder text, object? state)
            {
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    foreach (var (key, value) in values)
                    {
                        text.Append(' ').Append(key).Append('=').Append(value);
                    }
                }
            }
        }
    }
}
