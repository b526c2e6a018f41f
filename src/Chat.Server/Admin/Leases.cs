using Chat.Persistence;
using Microsoft.Extensions.Options;

namespace Chat.Server.Admin;

/// <summary>
/// This replica's name in the database's leases (<see cref="LeaseStore"/>): its replica id and a nonce of this process,
/// so a restarted replica with the same id does not take over a lease its dead predecessor held without waiting.
/// </summary>
public sealed class LeaseHolder(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChatServerOptions> server)
{
    public string Id { get; } = Truncate($"{server.Value.ReplicaId}/{Guid.NewGuid():N}");

    /// <summary>Takes or renews <paramref name="name"/> for <paramref name="duration"/>; false when another replica holds it.</summary>
    public async Task<bool> TryHoldAsync(string name, TimeSpan duration, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<LeaseStore>().TryHoldAsync(name, Id, time.GetUtcNow().ToUnixTimeMilliseconds(), duration, ct);
    }

    public async Task ReleaseAsync(string name, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<LeaseStore>().ReleaseAsync(name, Id, ct);
    }

    private static string Truncate(string id) => id.Length <= 128 ? id : id[^128..];
}
