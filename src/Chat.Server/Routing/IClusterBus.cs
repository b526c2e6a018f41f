using Chat.Server.Connections;

namespace Chat.Server.Routing;

/// <summary>
/// Carries stored messages to the other replicas: a user's channel is subscribed by the replica that holds the
/// user, a group's by every replica that holds one of its members.
/// </summary>
public interface IClusterBus
{
    Task SubscribeUserAsync(int userId);

    Task UnsubscribeUserAsync(int userId);

    Task SubscribeGroupAsync(int groupId);

    Task UnsubscribeGroupAsync(int groupId);

    /// <summary>Hands a delivery to the other replicas. Never waits on them: what fails stays in the store.</summary>
    void Publish(Delivery delivery);
}

/// <summary>A single node: every session is local, there is nobody to publish to.</summary>
public sealed class LocalBus : IClusterBus
{
    public Task SubscribeUserAsync(int userId) => Task.CompletedTask;

    public Task UnsubscribeUserAsync(int userId) => Task.CompletedTask;

    public Task SubscribeGroupAsync(int groupId) => Task.CompletedTask;

    public Task UnsubscribeGroupAsync(int groupId) => Task.CompletedTask;

    public void Publish(Delivery delivery)
    {
    }
}
