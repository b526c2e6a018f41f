using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Limits;

/// <summary>TLS on the chat port, with a self-signed certificate made here: PFX or PEM.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("chat-tls-").FullName;
    private readonly X509Certificate2 _certificate;

    public TlsTests()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllBytes(Path.Combine(_directory, "chat.pfx"), _certificate.Export(X509ContentType.Pfx, "s3cret"));
        File.WriteAllText(Path.Combine(_directory, "chat.crt"), _certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_directory, "chat.key"), key.ExportPkcs8PrivateKeyPem());
    }

    public void Dispose()
    {
        _certificate.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task<Replica> StartAsync(Dictionary<string, string?> tls)
    {
        var postgres = await PostgresServer.StartedAsync();
        return await Replica.StartAsync(await postgres.CreateDatabaseAsync("tls"), tls);
    }

    private async Task<TestClient> LoggedInAsync(int port, string name)
    {
        var client = await TestClient.ConnectTlsAsync(port, _certificate);
        var id = await client.RegisterAsync(name, "pw-" + name);
        Assert.Equal(0, (int)(await client.LoginAsync(id, "pw-" + name))["errno"]!);
        return client;
    }

    [Fact]
    public async Task With_a_pfx_users_register_log_in_and_chat_over_tls_and_plain_tcp_gets_nothing()
    {
        await using var replica = await StartAsync(new()
        {
            ["Chat:Tls:CertificatePath"] = Path.Combine(_directory, "chat.pfx"),
            ["Chat:Tls:CertificatePassword"] = "s3cret",
        });
        await using var alice = await LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"));
        await using var bob = await LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));

        var ack = await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "over tls", cid = "t1" });
        Assert.Equal((11, 0), ((int)ack["msgid"]!, (int)ack["errno"]!));
        Assert.Equal("over tls", (string)(await bob.ReceiveAsync(6))["msg"]!);

        // A plain client gets no chat frame, only a closed (or failed) connection.
        var plain = await TestClient.ExchangeAsync(replica.ChatPort, "{\"msgid\":13,\"cid\":\"plain\"}\n"u8.ToArray(), halfClose: false);
        Assert.DoesNotContain("msgid", plain, StringComparison.Ordinal);

        await alice.AssertNothingPendingAsync();
        await using var carol = await LoggedInAsync(replica.ChatPort, TestClient.Unique("carol"));
        await carol.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task With_a_pem_certificate_and_key_the_port_speaks_tls()
    {
        await using var replica = await StartAsync(new()
        {
            ["Chat:Tls:CertificatePath"] = Path.Combine(_directory, "chat.crt"),
            ["Chat:Tls:KeyPath"] = Path.Combine(_directory, "chat.key"),
        });

        await using var alice = await LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"));
        await alice.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Nginx_passes_tls_through_to_the_replica_unchanged()
    {
        await using var replica = await StartAsync(new()
        {
            ["Chat:Tls:CertificatePath"] = Path.Combine(_directory, "chat.pfx"),
            ["Chat:Tls:CertificatePassword"] = "s3cret",
        });
        await using var nginx = await NginxServer.StartNewAsync([replica.ChatPort]);

        await using var alice = await LoggedInAsync(nginx.Port, TestClient.Unique("alice"));
        await using var bob = await LoggedInAsync(nginx.Port, TestClient.Unique("bob"));
        await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "through the balancer", cid = "n1" });

        Assert.Equal("through the balancer", (string)(await bob.ReceiveAsync(6))["msg"]!);
    }

    [Fact]
    public async Task A_missing_certificate_file_stops_the_start_with_a_clear_error()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(new()
        {
            ["Chat:Tls:CertificatePath"] = Path.Combine(_directory, "missing.pfx"),
        }));

        Assert.Contains("missing.pfx", error.ToString(), StringComparison.Ordinal);
    }
}
