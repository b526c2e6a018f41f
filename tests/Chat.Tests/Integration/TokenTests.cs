using Chat.Protocol;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Integration;

/// <summary>Session tokens: issued in a v2 LOGIN_ACK, good on every replica, revoked by LOGINOUT all, refused when wrong or expired.</summary>
public sealed class TokenTests
{
    private static async Task<(Replica A, Replica B)> StartTwoAsync(string name, string tokenLifetime = "30.00:00:00")
    {
        var database = await (await PostgresServer.StartedAsync()).CreateDatabaseAsync(name);
        var settings = new Dictionary<string, string?> { ["Chat:Login:TokenLifetime"] = tokenLifetime };
        return (await Replica.StartAsync(database, settings), await Replica.StartAsync(database, settings));
    }

    private static Task<System.Text.Json.Nodes.JsonObject> TokenLoginAsync(TestClient client, int id, string token) =>
        client.RequestAsync(new LoginRequest(id, null, Version: 2) { Token = token });

    [Fact]
    public async Task A_v2_login_gets_a_token_that_logs_in_on_another_replica_until_LOGINOUT_all_revokes_it()
    {
        var (a, b) = await StartTwoAsync("tokens");
        await using (a)
        await using (b)
        {
            var name = TestClient.Unique("alice");
            await using var alice = await TestClient.ConnectAsync(a.ChatPort);
            var id = await alice.RegisterAsync(name, "pw-" + name);
            Assert.Null((await alice.LoginAsync(id, "pw-" + name))["token"]); // the seed's form carries none
            await alice.RequestAsync(new LogoutRequest { Cid = Cid.From("o") });
            var token = (string)(await alice.LoginAsync(id, "pw-" + name, v: 2))["token"]!;
            Assert.Equal(43, token.Length);
            await alice.RequestAsync(new LogoutRequest { Cid = Cid.From("o") });

            await using var phone = await TestClient.ConnectAsync(b.ChatPort);
            var ack = await TokenLoginAsync(phone, id, token);
            Assert.Equal(0, (int)ack["errno"]!);
            Assert.Equal(name, (string)ack["name"]!);
            Assert.Equal(token, (string)ack["token"]!);

            // The token is the user's alone, and only while it is not revoked.
            await using var other = await TestClient.ConnectAsync(b.ChatPort);
            Assert.Equal(1, (int)(await TokenLoginAsync(other, id + 1, token))["errno"]!);
            Assert.Equal(0, (int)(await phone.RequestAsync(new LogoutRequest { All = true, Cid = Cid.From("all") }))["errno"]!);
            Assert.Equal(1, (int)(await TokenLoginAsync(phone, id, token))["errno"]!);
            Assert.Equal(0, (int)(await alice.LoginAsync(id, "pw-" + name))["errno"]!);
        }
    }

    [Fact]
    public async Task Wrong_and_expired_tokens_are_errno_1_and_count_against_the_login_limits()
    {
        var (a, b) = await StartTwoAsync("tokens_bad", tokenLifetime: "00:00:01");
        await using (a)
        await using (b)
        {
            var name = TestClient.Unique("bob");
            await using var bob = await TestClient.ConnectAsync(a.ChatPort);
            var id = await bob.RegisterAsync(name, "pw-" + name);
            var token = (string)(await bob.LoginAsync(id, "pw-" + name, v: 2))["token"]!;
            await bob.RequestAsync(new LogoutRequest { Cid = Cid.From("o") });

            await Wait.UntilAsync(
                async () =>
                {
                    var errno = (int)(await TokenLoginAsync(bob, id, token))["errno"]!;
                    if (errno == 0)
                    {
                        await bob.RequestAsync(new LogoutRequest { Cid = Cid.From("o") });
                    }

                    return errno == 1;
                },
                TimeSpan.FromSeconds(10),
                "the token to expire");

            // Five failures on one connection (the default), then errno 11 and a close.
            await using var guesser = await TestClient.ConnectAsync(b.ChatPort);
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(1, (int)(await TokenLoginAsync(guesser, id, "guess" + i))["errno"]!);
            }

            Assert.Equal(11, (int)(await TokenLoginAsync(guesser, id, "guess"))["errno"]!);
            Assert.Null(await guesser.ReceiveOrCloseAsync());
        }
    }
}
