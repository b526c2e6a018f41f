using System.Collections.Concurrent;
using Chat.Server.Sessions;

namespace Chat.Server.Hub;

/// <summary>A single node without Redis: online means claimed on this process, and there is nobody to publish to.</summary>
public sealed class LocalHub : ChatHub
{
    private readonly ConcurrentDictionary<int, byte> _claims = new();

    public override Task ReleaseAsync(int userId)
    {
        _claims.TryRemove(userId, out _);
        return Task.CompletedTask;
    }

    public override Task<IReadOnlySet<int>> OnlineAsync(IReadOnlyCollection<int> userIds) =>
        Task.FromResult<IReadOnlySet<int>>(userIds.Where(_claims.ContainsKey).ToHashSet());

    protected override Task<bool> TryClaimAsync(int userId) => Task.FromResult(_claims.TryAdd(userId, 0));

    protected override Task SubscribeAsync(Topic topic) => Task.CompletedTask;

    protected override Task UnsubscribeAsync(Topic topic) => Task.CompletedTask;

    protected override void Publish(Delivery delivery)
    {
    }
}
