using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Chat.Persistence;

/// <summary>
/// Brings the schema up to date before anything else starts. Waits up to <see cref="MaxWait"/> for the database
/// to become reachable; several replicas starting together take turns (see <see cref="DatabaseProvider.AcquireMigrationLockAsync"/>).
/// </summary>
public sealed class DatabaseMigrator(IServiceScopeFactory scopes, DatabaseProvider provider, TimeProvider time, ILogger<DatabaseMigrator> logger) : IHostedService
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + MaxWait;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await MigrateAsync(cancellationToken);
                logger.MigrationsApplied();
                return;
            }
            catch (Exception ex) when (provider.IsUnreachable(ex) && !cancellationToken.IsCancellationRequested)
            {
                if (time.GetUtcNow() + RetryDelay > deadline)
                {
                    throw new InvalidOperationException(
                        $"The chat database stayed unreachable for {MaxWait.TotalSeconds:0} s; giving up. Last error: {ex.GetBaseException().Message}", ex);
                }

                logger.MigrationRetry(attempt, ex.GetBaseException().Message, RetryDelay);
            }

            await Task.Delay(RetryDelay, time, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task MigrateAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = db.Database.GetDbConnection();
            await provider.AcquireMigrationLockAsync(connection, ct);
            try
            {
                // Created up front, EF's first look at the history table does not log a failed query on a new database.
                await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(ct);
                await db.Database.MigrateAsync(ct);
            }
            finally
            {
                if (connection.State == ConnectionState.Open)
                {
                    await provider.ReleaseMigrationLockAsync(connection);
                }
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
