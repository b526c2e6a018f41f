using Chat.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Chat.Server.Hosting;

/// <summary>One dependency a replica needs to serve: it is either fine or says what is wrong.</summary>
public interface IReadinessCheck
{
    string Name { get; }

    /// <returns>Null when fine, otherwise what is wrong.</returns>
    Task<string?> ProblemAsync(CancellationToken ct);
}

public sealed record ReadinessReport(bool Ready, IReadOnlyDictionary<string, string> Checks);

/// <summary>Runs every <see cref="IReadinessCheck"/> with a deadline; ready only when all are fine.</summary>
public sealed class ReadinessProbe(IEnumerable<IReadinessCheck> checks)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    public async Task<ReadinessReport> CheckAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Deadline);
        var results = await Task.WhenAll(checks.Select(async check => (check.Name, Problem: await RunAsync(check, timeout.Token))));
        return new ReadinessReport(
            results.All(r => r.Problem is null),
            results.ToDictionary(r => r.Name, r => r.Problem ?? "ok"));
    }

    private static async Task<string?> RunAsync(IReadinessCheck check, CancellationToken ct)
    {
        try
        {
            return await check.ProblemAsync(ct);
        }
        catch (Exception ex)
        {
            return ex.Message;
        }
    }
}

/// <summary>The database answers (named as configured: mysql, postgres or sqlite).</summary>
public sealed class DatabaseCheck(ChatDbContext db, DatabaseProvider provider) : IReadinessCheck
{
    public string Name => provider.Name;

    public async Task<string?> ProblemAsync(CancellationToken ct) =>
        await db.Database.CanConnectAsync(ct) ? null : "cannot connect";
}
