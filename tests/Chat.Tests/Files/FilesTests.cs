using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Chat.Persistence;
using Chat.Protocol;
using Chat.Server.Files;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Files;

/// <summary>Two replicas behind nginx with small file limits, so every limit is reached with a few MiB.</summary>
public class FilesClusterFixture : ClusterFixture
{
    public const long MaxBytes = 3 * 1024 * 1024;
    public const long DailyBytes = 8 * 1024 * 1024;
    public const long MaxImagePixels = 1_000_000;
    public static readonly TimeSpan UnsentLifetime = TimeSpan.FromSeconds(3);

    protected override Task<IReadOnlyDictionary<string, string?>> MoreSettingsAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string?>>(FileSettings());

    protected static Dictionary<string, string?> FileSettings() => new()
    {
        ["Chat:Files:MaxBytes"] = MaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Chat:Files:DailyBytesPerUser"] = DailyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Chat:Files:MaxImagePixels"] = MaxImagePixels.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Chat:Files:UnsentLifetime"] = UnsentLifetime.ToString(),
    };
}

/// <summary>The same with the S3 store, on a local s3rver.</summary>
public sealed class S3FilesClusterFixture : FilesClusterFixture
{
    private S3Server? _s3;

    protected override async Task<IReadOnlyDictionary<string, string?>> MoreSettingsAsync()
    {
        _s3 = await S3Server.StartNewAsync();
        var settings = FileSettings();
        foreach (var (key, value) in _s3.Settings("chat-test-files"))
        {
            settings[key] = value;
        }

        return settings;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_s3 is not null)
        {
            await _s3.DisposeAsync();
        }
    }
}

/// <summary>
/// Files over HTTP on the real cluster (MariaDB, Redis, two replicas, nginx): upload on one replica, download on the
/// other and through nginx, who may read what, every limit, images made safe, files as chat messages.
/// </summary>
public abstract class FilesTests(FilesClusterFixture cluster) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => _http.Dispose();

    private sealed record User(TestClient Chat, int Id, string Token) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Chat.DisposeAsync();
    }

    private static async Task<User> UserAsync(int port, string prefix, int v = 2)
    {
        var chat = await TestClient.ConnectAsync(port);
        var name = TestClient.Unique(prefix);
        var id = await chat.RegisterAsync(name, "pw-" + name);
        var ack = await chat.LoginAsync(id, "pw-" + name, v);
        Assert.Equal(0, (int)ack["errno"]!);
        return new User(chat, id, (string?)ack["token"] ?? "");
    }

    private static Uri At(int port, string path) => new($"http://127.0.0.1:{port}{path}");

    private async Task<HttpResponseMessage> UploadAsync(int port, string token, string name, byte[] body, string? type = "application/octet-stream")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, At(port, "/files?name=" + Uri.EscapeDataString(name)));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Content = new ByteArrayContent(body);
        if (type is not null)
        {
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        }

        return await _http.SendAsync(request);
    }

    private async Task<JsonObject> UploadedAsync(int port, string token, string name, byte[] body, string? type = "application/octet-stream")
    {
        using var response = await UploadAsync(port, token, name, body, type);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private async Task<HttpResponseMessage> GetAsync(int port, string path, string? token, Action<HttpRequestMessage>? more = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, At(port, path));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        more?.Invoke(request);
        return await _http.SendAsync(request);
    }

    private async Task<byte[]> DownloadAsync(int port, string path, string token)
    {
        using var response = await GetAsync(port, path, token);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} on {port}: {response.StatusCode}");
        return await response.Content.ReadAsByteArrayAsync();
    }

    private async Task<int> StoredFilesOfAsync(int userId)
    {
        await using var scope = cluster.A.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        return await db.Files.CountAsync(f => f.UploaderId == userId);
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task A_file_uploaded_on_one_replica_downloads_whole_and_by_range_on_the_other_and_through_nginx()
    {
        await using var alice = await UserAsync(cluster.A.ChatPort, "fa");
        // Three chunks (1 MiB each, the last shorter): ranges cross a chunk boundary.
        var content = RandomBytes((2 * 1024 * 1024) + 12345);
        var file = await UploadedAsync(cluster.A.HttpPort, alice.Token, "report.pdf", content, "application/pdf");
        var id = (string)file["id"]!;
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal("report.pdf", (string)file["name"]!);
        Assert.Equal(content.Length, (long)file["size"]!);
        Assert.Equal("application/pdf", (string)file["type"]!);
        Assert.False((bool)file["thumb"]!);
        await using (var scope = cluster.A.Services.CreateAsyncScope())
        {
            // Where the bytes are: three chunk rows in the database, or none there (all in the bucket).
            var chunks = await scope.ServiceProvider.GetRequiredService<ChatDbContext>().FileChunks.CountAsync(c => c.FileId == id);
            Assert.Equal(cluster is S3FilesClusterFixture ? 0 : 3, chunks);
        }

        Assert.Equal(content, await DownloadAsync(cluster.B.HttpPort, $"/files/{id}", alice.Token));
        using (var viaNginx = await GetAsync(cluster.Nginx.HttpPort, $"/files/{id}", alice.Token))
        {
            Assert.Equal(HttpStatusCode.OK, viaNginx.StatusCode);
            Assert.Equal(content, await viaNginx.Content.ReadAsByteArrayAsync());
            Assert.Equal("nosniff", viaNginx.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("default-src 'none'", viaNginx.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("attachment", viaNginx.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal("application/pdf", viaNginx.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(viaNginx.Headers.ETag);

            using var again = await GetAsync(cluster.Nginx.HttpPort, $"/files/{id}", alice.Token, r => r.Headers.IfNoneMatch.Add(viaNginx.Headers.ETag!));
            Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        }

        const int from = (1024 * 1024) - 10;
        using var range = await GetAsync(cluster.B.HttpPort, $"/files/{id}", alice.Token, r => r.Headers.Range = new RangeHeaderValue(from, from + 99));
        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal(content.AsSpan(from, 100).ToArray(), await range.Content.ReadAsByteArrayAsync());
        Assert.Equal(content.Length, range.Content.Headers.ContentRange?.Length);

        using var tail = await GetAsync(cluster.Nginx.HttpPort, $"/files/{id}", alice.Token, r => r.Headers.Range = new RangeHeaderValue(null, 7));
        Assert.Equal(HttpStatusCode.PartialContent, tail.StatusCode);
        Assert.Equal(content[^7..], await tail.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Upload_through_nginx_is_served_by_either_replica()
    {
        await using var alice = await UserAsync(cluster.Nginx.Port, "fn");
        var content = RandomBytes(1_500_000);
        var id = (string)(await UploadedAsync(cluster.Nginx.HttpPort, alice.Token, "a.bin", content))["id"]!;
        Assert.Equal(content, await DownloadAsync(cluster.A.HttpPort, $"/files/{id}", alice.Token));
        Assert.Equal(content, await DownloadAsync(cluster.B.HttpPort, $"/files/{id}", alice.Token));
    }

    [Fact]
    public async Task A_file_sent_in_a_chat_reaches_the_peer_on_the_other_replica_who_alone_may_read_it()
    {
        await using var alice = await UserAsync(cluster.A.ChatPort, "fs");
        await using var bob = await UserAsync(cluster.B.ChatPort, "fr");
        await using var carol = await UserAsync(cluster.B.ChatPort, "fo");
        var content = RandomBytes(5000);
        var id = (string)(await UploadedAsync(cluster.A.HttpPort, alice.Token, "notes.txt", content, "text/plain"))["id"]!;

        // Nobody but the uploader before it is sent; an outsider, a guessed id and no token never.
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(cluster.B.HttpPort, $"/files/{id}", bob.Token)).StatusCode);

        await alice.Chat.SendAsync(new { msgid = 6, toid = bob.Id, msg = "see this", file = id, cid = "f1" });
        var ack = await alice.Chat.ReceiveAsync((int)MsgId.Ack);
        Assert.Equal(0, (int)ack["errno"]!);
        var chat = await bob.Chat.ReceiveAsync((int)MsgId.OneChat);
        Assert.Equal("see this", (string)chat["msg"]!);
        var sent = chat["file"]!.AsObject();
        Assert.Equal(id, (string)sent["id"]!);
        Assert.Equal("notes.txt", (string)sent["name"]!);
        Assert.Equal(5000, (long)sent["size"]!);
        Assert.Equal("text/plain", (string)sent["type"]!);

        Assert.Equal(content, await DownloadAsync(cluster.B.HttpPort, $"/files/{id}", bob.Token));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(cluster.B.HttpPort, $"/files/{id}", carol.Token)).StatusCode);
        var guessed = id[..31] + (id[31] == '0' ? '1' : '0'); // one digit off
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(cluster.B.HttpPort, $"/files/{guessed}", bob.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(cluster.B.HttpPort, "/files/" + new string('a', 32), bob.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(cluster.B.HttpPort, $"/files/{id}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(cluster.B.HttpPort, $"/files/{id}", "not-a-token")).StatusCode);

        // Only the uploader may send it: bob forwarding alice's file is told there is no such file of his.
        await bob.Chat.SendAsync(new { msgid = 6, toid = carol.Id, msg = "", file = id, cid = "f2" });
        var refused = await bob.Chat.ReceiveAsync((int)MsgId.Ack);
        Assert.Equal((int)ErrorCode.NotFound, (int)refused["errno"]!);

        // In HISTORY too, as delivered.
        await bob.Chat.SendAsync(new { msgid = 15, peer = alice.Id, cid = "h" });
        var history = await bob.Chat.ReceiveAsync((int)MsgId.HistoryAck);
        var message = history["messages"]!.AsArray().Single()!.AsObject();
        Assert.Equal(id, (string)message["file"]!["id"]!);
    }

    [Fact]
    public async Task A_group_file_is_for_its_members_not_former_ones_and_seed_sessions_get_it_as_text()
    {
        await using var alice = await UserAsync(cluster.A.ChatPort, "ga");
        await using var dave = await UserAsync(cluster.B.ChatPort, "gd");
        await using var seed = await UserAsync(cluster.B.ChatPort, "gs", v: 0);
        var created = await alice.Chat.RequestAsync(new CreateGroupRequest(TestClient.Unique("g"), "files") { Cid = Cid.From("g") });
        var groupId = (int)created["groupid"]!;
        Assert.Equal(0, (int)(await dave.Chat.RequestAsync(new JoinGroupRequest(groupId) { Cid = Cid.From("j") }))["errno"]!);
        await seed.Chat.SendAsync(new JoinGroupRequest(groupId));
        await seed.Chat.AssertNothingPendingAsync();

        var id = (string)(await UploadedAsync(cluster.A.HttpPort, alice.Token, "plan.zip", RandomBytes(2048), "application/zip"))["id"]!;
        await alice.Chat.SendAsync(new { msgid = 10, groupid = groupId, msg = "the plan", file = id, cid = "m" });
        JsonObject ack;
        do
        {
            ack = await alice.Chat.ReceiveAsync();
        }
        while ((int)ack["msgid"]! != (int)MsgId.Ack || (string?)ack["cid"] != "m");
        Assert.Equal(0, (int)ack["errno"]!);

        JsonObject chat;
        do
        {
            chat = await dave.Chat.ReceiveAsync();
        }
        while ((int)chat["msgid"]! != (int)MsgId.GroupChat);
        Assert.Equal(id, (string)chat["file"]!["id"]!);

        var seedChat = await seed.Chat.ReceiveAsync((int)MsgId.GroupChat);
        Assert.Equal("the plan [file: plan.zip, 2 KB]", (string)seedChat["msg"]!);
        Assert.Null(seedChat["file"]);

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(cluster.Nginx.HttpPort, $"/files/{id}", dave.Token)).StatusCode);
        Assert.Equal(0, (int)(await dave.Chat.RequestAsync(new LeaveGroupRequest(groupId) { Cid = Cid.From("l") }))["errno"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(cluster.Nginx.HttpPort, $"/files/{id}", dave.Token)).StatusCode);
    }

    [Fact]
    public async Task Limits_are_refused_with_nothing_stored()
    {
        await using var alice = await UserAsync(cluster.A.ChatPort, "fl");

        // No token, a wrong one, a seed login's (none).
        Assert.Equal(HttpStatusCode.Unauthorized, (await UploadAsync(cluster.A.HttpPort, "", "x", [1, 2, 3])).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await UploadAsync(cluster.A.HttpPort, "wrong", "x", [1, 2, 3])).StatusCode);

        // Over the size by counting (no Content-Length: chunked).
        using (var chunked = new HttpRequestMessage(HttpMethod.Post, At(cluster.A.HttpPort, "/files?name=big.bin")))
        {
            chunked.Headers.Authorization = new AuthenticationHeaderValue("Bearer", alice.Token);
            chunked.Content = new StreamContent(new MemoryStream(RandomBytes((int)FilesClusterFixture.MaxBytes + 1)));
            chunked.Headers.TransferEncodingChunked = true;
            using var response = await _http.SendAsync(chunked);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        // A "PNG" that is text, a PNG that does not decode, an image of too many pixels.
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await UploadAsync(cluster.A.HttpPort, alice.Token, "a.png", "hello"u8.ToArray(), "image/png")).StatusCode);
        byte[] broken = [.. TestImages.Png(64, 64)[..40], .. RandomBytes(200)];
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await UploadAsync(cluster.A.HttpPort, alice.Token, "b.png", broken, null)).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await UploadAsync(cluster.A.HttpPort, alice.Token, "c.png", TestImages.Png(2000, 1000), "image/png")).StatusCode);
        Assert.Equal(0, await StoredFilesOfAsync(alice.Id));

        // The daily quota: 8 MiB in 3 MiB files, the third refused up front.
        var two = RandomBytes((int)FilesClusterFixture.MaxBytes);
        await UploadedAsync(cluster.A.HttpPort, alice.Token, "1.bin", two);
        await UploadedAsync(cluster.B.HttpPort, alice.Token, "2.bin", two);
        using (var third = await UploadAsync(cluster.A.HttpPort, alice.Token, "3.bin", two))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        }

        Assert.Equal(2, await StoredFilesOfAsync(alice.Id));
    }

    [Fact]
    public async Task An_oversized_upload_is_refused_before_its_body_is_sent()
    {
        await using var alice = await UserAsync(cluster.A.ChatPort, "fb");
        foreach (var port in new[] { cluster.A.HttpPort, cluster.Nginx.HttpPort })
        {
            // Headers only, claiming 100 MiB: the answer comes without a byte of the body.
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            var stream = tcp.GetStream();
            var head = $"POST /files?name=huge.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {alice.Token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            using var timeout = new CancellationTokenSource(TestClient.Deadline);
            var buffer = new byte[4096];
            var n = await stream.ReadAsync(buffer, timeout.Token);
            var status = Encoding.ASCII.GetString(buffer, 0, n).Split("\r\n")[0];
            Assert.Equal("HTTP/1.1 413", status[..12]);
        }
    }

    [Fact]
    public async Task An_image_is_stored_upright_without_exif_and_with_a_thumbnail()
    {
        await using var alice = await UserAsync(cluster.A.ChatPort, "fi");
        var jpeg = TestImages.JpegWithExif(800, 400);
        Assert.True(TestImages.Inspect(jpeg).HasExif);
        Assert.True(jpeg.AsSpan().IndexOf(TestImages.GpsMarker) >= 0);

        var file = await UploadedAsync(cluster.A.HttpPort, alice.Token, "photo.jpg", jpeg, "image/jpeg");
        Assert.Equal("image/jpeg", (string)file["type"]!);
        Assert.True((bool)file["thumb"]!);
        var id = (string)file["id"]!;

        using var full = await GetAsync(cluster.B.HttpPort, $"/files/{id}", alice.Token);
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.NotEqual("attachment", full.Content.Headers.ContentDisposition?.DispositionType);
        var stored = await full.Content.ReadAsByteArrayAsync();
        var (width, height, exif) = TestImages.Inspect(stored);
        Assert.Equal((400, 800, false), (width, height, exif)); // orientation 6 applied: now taller than wide

        var thumb = await DownloadAsync(cluster.Nginx.HttpPort, $"/files/{id}/thumb", alice.Token);
        var (tw, th, thumbExif) = TestImages.Inspect(thumb);
        Assert.Equal((160, 320, false), (tw, th, thumbExif));

        // A file that is no image has no thumbnail.
        var other = (string)(await UploadedAsync(cluster.A.HttpPort, alice.Token, "x.txt", "text"u8.ToArray(), "text/plain"))["id"]!;
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(cluster.A.HttpPort, $"/files/{other}/thumb", alice.Token)).StatusCode);
    }

    [Fact]
    public async Task A_stalled_upload_keeps_nothing_and_holds_the_replica_back_from_nobody()
    {
        await using var alice = await UserAsync(cluster.A.ChatPort, "ft");
        await using var bob = await UserAsync(cluster.A.ChatPort, "fu");
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, cluster.A.HttpPort);
            var stream = tcp.GetStream();
            var head = $"POST /files?name=slow.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {alice.Token}\r\nContent-Length: {2 * 1024 * 1024}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(RandomBytes(100_000));

            // Meanwhile others upload and download on the same replica.
            var content = RandomBytes(300_000);
            var id = (string)(await UploadedAsync(cluster.A.HttpPort, bob.Token, "b.bin", content))["id"]!;
            Assert.Equal(content, await DownloadAsync(cluster.A.HttpPort, $"/files/{id}", bob.Token));
        }

        // The stalled client went away: nothing of it is kept.
        await using var scope = cluster.A.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        await Wait.UntilAsync(async () => await db.Files.CountAsync(f => f.UploaderId == alice.Id) == 0, TestClient.Deadline, "no file of the stalled upload");
        Assert.Equal(0, await StoredFilesOfAsync(alice.Id));
    }

    [Fact]
    public async Task A_recalled_message_s_file_is_erased_once_no_other_message_holds_it()
    {
        await using var alice = await UserAsync(cluster.A.ChatPort, "fk");
        await using var bob = await UserAsync(cluster.B.ChatPort, "fm");
        var id = (string)(await UploadedAsync(cluster.A.HttpPort, alice.Token, "twice.bin", RandomBytes(3000)))["id"]!;
        var seqs = new List<long>();
        foreach (var cid in new[] { "r1", "r2" })
        {
            await alice.Chat.SendAsync(new { msgid = 6, toid = bob.Id, msg = "", file = id, cid });
            var ack = await alice.Chat.ReceiveAsync((int)MsgId.Ack);
            seqs.Add((long)ack["seq"]!);
        }

        var files = cluster.B.Services.GetRequiredService<FileService>();
        var conversation = Chat.Domain.ConversationId.Direct(alice.Id, bob.Id);
        Assert.False(await files.ReleaseAsync(conversation, seqs[0], CancellationToken.None)); // the second message holds it
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(cluster.A.HttpPort, $"/files/{id}", bob.Token)).StatusCode);
        Assert.True(await files.ReleaseAsync(conversation, seqs[1], CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(cluster.A.HttpPort, $"/files/{id}", alice.Token)).StatusCode);
        await using var scope = cluster.A.Services.CreateAsyncScope();
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<ChatDbContext>().FileChunks.CountAsync(c => c.FileId == id));
    }

    [Fact]
    public async Task A_file_never_sent_is_erased_after_its_lifetime_and_a_sent_one_stays()
    {
        await using var alice = await UserAsync(cluster.A.ChatPort, "fe");
        await using var bob = await UserAsync(cluster.A.ChatPort, "ff");
        var unsent = (string)(await UploadedAsync(cluster.A.HttpPort, alice.Token, "u.bin", RandomBytes(1000)))["id"]!;
        var sent = (string)(await UploadedAsync(cluster.A.HttpPort, alice.Token, "s.bin", RandomBytes(1000)))["id"]!;
        await alice.Chat.SendAsync(new { msgid = 6, toid = bob.Id, msg = "", file = sent, cid = "s" });
        Assert.Equal(0, (int)(await alice.Chat.ReceiveAsync((int)MsgId.Ack))["errno"]!);

        await Task.Delay(FilesClusterFixture.UnsentLifetime + TimeSpan.FromMilliseconds(500));
        await cluster.B.Services.GetRequiredService<UnsentFileSweeper>().SweepAsync(CancellationToken.None);

        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(cluster.A.HttpPort, $"/files/{unsent}", alice.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(cluster.A.HttpPort, $"/files/{sent}", bob.Token)).StatusCode);
    }
}

public sealed class DatabaseFilesTests(FilesClusterFixture cluster) : FilesTests(cluster), IClassFixture<FilesClusterFixture>;

public sealed class S3FilesTests(S3FilesClusterFixture cluster) : FilesTests(cluster), IClassFixture<S3FilesClusterFixture>;
