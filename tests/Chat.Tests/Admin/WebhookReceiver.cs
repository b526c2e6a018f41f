using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Chat.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Admin;

/// <summary>One POST a <see cref="WebhookReceiver"/> took, with its signature checked against the shared secret.</summary>
public sealed record WebhookDelivery(string DeliveryHeader, string EventHeader, JsonObject Body, bool SignatureValid)
{
    public string Id => (string)Body["id"]!;

    public string Type => (string)Body["type"]!;
}

/// <summary>
/// A webhook receiver on loopback, as an integrator would run one: Kestrel, one route, the signature checked with
/// the secret (HMAC-SHA256 of the raw body, computed here, not by the server's code). It can be stopped and started
/// again on the same port (down: connections refused), and told what to answer.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly byte[] _secret;
    private WebApplication? _app;

    private WebhookReceiver(string secret, int port)
    {
        _secret = Encoding.UTF8.GetBytes(secret);
        Port = port;
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hooks";

    /// <summary>Every POST answered 2xx, in arrival order.</summary>
    public ConcurrentQueue<WebhookDelivery> Taken { get; } = new();

    /// <summary>POSTs refused (any answer but 2xx), counted.</summary>
    public int Refused => _refused;

    private int _refused;

    /// <summary>What a POST is answered; 200 unless told otherwise. 0: hang until the client gives up.</summary>
    public int Status { get; set; } = 200;

    /// <summary>A receiver whose port is reserved but which is not listening yet (down) unless <paramref name="up"/>.</summary>
    public static async Task<WebhookReceiver> StartAsync(string secret, bool up = true)
    {
        var receiver = new WebhookReceiver(secret, FreePort.Next());
        if (up)
        {
            await receiver.UpAsync();
        }

        return receiver;
    }

    public async Task UpAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port));
        var app = builder.Build();
        app.MapPost("/hooks", (RequestDelegate)HandleAsync);
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Down: the port refuses connections.</summary>
    public async Task DownAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(2)); // a hanging request is cut off
            await app.StopAsync(bounded.Token);
            await app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var status = Status; // as the request arrives: one sent before a change of mind gets the old answer
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        if (status == 0)
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }

        if (status is < 200 or > 299)
        {
            Interlocked.Increment(ref _refused);
            if (status is >= 300 and < 400)
            {
                context.Response.Headers.Location = Url + "/elsewhere";
            }

            context.Response.StatusCode = status;
            return;
        }

        var body = buffer.ToArray();
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(_secret, body));
        var signature = context.Request.Headers["X-Chat-Signature"].ToString();
        Taken.Enqueue(new WebhookDelivery(
            context.Request.Headers["X-Chat-Delivery"].ToString(),
            context.Request.Headers["X-Chat-Event"].ToString(),
            JsonNode.Parse(body)!.AsObject(),
            CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature))));
        context.Response.StatusCode = status;
    }

    public ValueTask DisposeAsync() => new(DownAsync());
}
