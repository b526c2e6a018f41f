using Chat.Persistence;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chat.Server.Hosting;

/// <summary>What <c>/readyz</c> answers: ready or not, and each check's <c>ok</c> or what is wrong.</summary>
public sealed record ReadinessReport(bool Ready, IReadOnlyDictionary<string, string> Checks);

/// <summary>The bodies of <c>/healthz</c> (<c>ok</c>) and <c>/readyz</c> (<see cref="ReadinessReport"/> as JSON); 200 or 503 either way.</summary>
public static class HealthResponses
{
    public static Task WriteLiveAsync(HttpContext context, HealthReport report) =>
        context.Response.WriteAsync(report.Status == HealthStatus.Unhealthy ? "unhealthy" : "ok");

    public static Task WriteReadyAsync(HttpContext context, HealthReport report) =>
        context.Response.WriteAsJsonAsync(new ReadinessReport(
            report.Status != HealthStatus.Unhealthy,
            report.Entries.ToDictionary(e => e.Key, e => Describe(e.Value))));

    private static string Describe(HealthReportEntry entry) =>
        entry.Status == HealthStatus.Healthy ? "ok" : entry.Description ?? entry.Exception?.Message ?? entry.Status.ToString();
}

/// <summary>The database accepts a connection; registered under the engine's name (mysql, postgres or sqlite).</summary>
public sealed class DatabaseHealthCheck(ChatDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await db.Database.CanConnectAsync(cancellationToken) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("cannot connect");
}
