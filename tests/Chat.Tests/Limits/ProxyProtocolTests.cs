using System.Buffers;
using System.Net;
using System.Text;
using Chat.Server.Transport;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Limits;

/// <summary>PROXY protocol v1 from a trusted balancer: the login limits see the real client, not nginx.</summary>
public sealed class ProxyProtocolTests
{
    [Theory]
    [InlineData("PROXY TCP4 203.0.113.7 10.0.0.2 51234 8000\r\n{\"msgid\":13}\n", "203.0.113.7:51234")]
    [InlineData("PROXY TCP6 2001:db8::7 2001:db8::1 51234 8000\r\n", "[2001:db8::7]:51234")]
    public void A_header_names_the_client_and_ends_where_the_clients_bytes_begin(string text, string expected)
    {
        var input = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text));

        var status = ProxyProtocol.TryParse(input, out var client, out var end);

        Assert.Equal(ProxyHeaderStatus.Parsed, status);
        Assert.Equal(IPEndPoint.Parse(expected), client);
        Assert.Equal(text[(text.IndexOf('\n', StringComparison.Ordinal) + 1)..], Encoding.ASCII.GetString(input.Slice(end).ToArray()));
    }

    [Theory]
    [InlineData("PROXY UNKNOWN\r\n", ProxyHeaderStatus.Parsed)]
    [InlineData("{\"msgid\":13}\n", ProxyHeaderStatus.Absent)]
    [InlineData("PRO", ProxyHeaderStatus.Incomplete)]
    [InlineData("PROXY TCP4 203.0.113.7 10.0.0.2 5", ProxyHeaderStatus.Incomplete)]
    [InlineData("PROXY TCP4 203.0.113.7 10.0.0.2 51234 8000\n", ProxyHeaderStatus.Invalid)]
    [InlineData("PROXY TCP4 2001:db8::7 10.0.0.2 51234 8000\r\n", ProxyHeaderStatus.Invalid)]
    [InlineData("PROXY TCP4 203.0.113.7 10.0.0.2 99999 8000\r\n", ProxyHeaderStatus.Invalid)]
    [InlineData("PROXY nonsense\r\n", ProxyHeaderStatus.Invalid)]
    public void Other_inputs_are_told_apart(string text, ProxyHeaderStatus expected)
    {
        Assert.Equal(expected, ProxyProtocol.TryParse(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), out _, out _));
    }

    [Fact]
    public void A_line_longer_than_the_protocol_allows_is_invalid()
    {
        var text = "PROXY " + new string('x', ProxyProtocol.MaxHeaderBytes);

        Assert.Equal(ProxyHeaderStatus.Invalid, ProxyProtocol.TryParse(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), out _, out _));
    }

    [Fact]
    public async Task Behind_nginx_with_proxy_protocol_one_clients_failed_logins_do_not_lock_out_another()
    {
        var postgres = await PostgresServer.StartedAsync();
        await using var replica = await Replica.StartAsync(await postgres.CreateDatabaseAsync("proxy"), new Dictionary<string, string?>
        {
            ["Chat:TrustedProxies:0"] = "127.0.0.1",
            ["Chat:LoginAttemptsPerAddress"] = "3",
            ["Chat:LoginAttemptRefill"] = "01:00:00",
        });
        await using var nginx = await NginxServer.StartNewAsync([replica.ChatPort], proxyProtocol: true);
        var name = TestClient.Unique("carol");
        int id;
        await using (var setup = await TestClient.ConnectAsync(nginx.Port, IPAddress.Parse("127.0.0.31")))
        {
            id = await setup.RegisterAsync(name, "pw-" + name);
        }

        // 127.0.0.32 guesses until its address is refused...
        var refused = 0;
        for (var i = 0; i < 4; i++)
        {
            await using var guesser = await TestClient.ConnectAsync(nginx.Port, IPAddress.Parse("127.0.0.32"));
            refused = (int)(await guesser.LoginAsync(id, "wrong"))["errno"]!;
        }

        // ...while the real user, from another address through the same nginx, logs in.
        await using var carol = await TestClient.ConnectAsync(nginx.Port, IPAddress.Parse("127.0.0.33"));
        var login = await carol.LoginAsync(id, "pw-" + name);

        Assert.Equal(11, refused);
        Assert.Equal(0, (int)login["errno"]!);
    }

    [Fact]
    public async Task A_trusted_proxy_that_is_no_address_stops_the_start_with_a_clear_error()
    {
        var postgres = await PostgresServer.StartedAsync();
        var database = await postgres.CreateDatabaseAsync("badproxy");
        var error = await Assert.ThrowsAnyAsync<Exception>(() => Replica.StartAsync(database, new Dictionary<string, string?>
        {
            ["Chat:TrustedProxies:0"] = "nginx.internal",
        }));

        Assert.Contains("'nginx.internal' is not an IP address or network", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_is_not_a_trusted_proxy_cannot_claim_another_address()
    {
        var postgres = await PostgresServer.StartedAsync();
        await using var replica = await Replica.StartAsync(await postgres.CreateDatabaseAsync("spoof"), new Dictionary<string, string?>
        {
            ["Chat:TrustedProxies:0"] = "10.9.9.9",
        });
        await using var client = await TestClient.ConnectAsync(replica.ChatPort);

        await client.SendRawAsync("PROXY TCP4 203.0.113.7 10.0.0.2 51234 8000\r\n"u8.ToArray());
        var error = await client.ReceiveAsync(12);

        Assert.Equal(4, (int)error["errno"]!);
        await client.AssertNothingPendingAsync();
    }
}
