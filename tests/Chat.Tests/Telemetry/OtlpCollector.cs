using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Telemetry;

/// <summary>
/// A stand-in OTLP collector over HTTP on a free loopback port: it takes every POST, answers 200 and remembers the path
/// and size, so a test sees which signals (<c>/v1/metrics</c>, <c>/v1/traces</c>, <c>/v1/logs</c>) arrived.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, long> _bytesByPath = new();

    private OtlpCollector(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var collector = new OtlpCollector(builder.Build());
        collector._app.MapPost("/{**path}", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            collector._bytesByPath.AddOrUpdate(request.Path.Value ?? "", body.Length, (_, total) => total + body.Length);
            return Results.Ok();
        });
        await collector._app.StartAsync();
        var address = collector._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        collector.Endpoint = new Uri(address);
        return collector;
    }

    /// <summary>True once at least one non-empty export arrived on <paramref name="path"/>.</summary>
    public bool Received(string path) => _bytesByPath.TryGetValue(path, out var bytes) && bytes > 0;

    public IReadOnlyCollection<string> Paths => [.. _bytesByPath.Keys];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
