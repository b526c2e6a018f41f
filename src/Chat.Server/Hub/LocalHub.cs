using Chat.Server.Sessions;
using Microsoft.Extensions.Options;

namespace Chat.Server.Hub;

/// <summary>A single node without Redis: online means a session on this process, and there is nobody to publish to.</summary>
public sealed class LocalHub(IOptions<LoginOptions> logins, IOptions<ChatServerOptions> server) : ChatHub(logins.Value.Multiple)
{
    /// <summary>Each online user's claimed sessions (a replaced one stays until it has closed).</summary>
    private readonly Dictionary<int, HashSet<long>> _claims = [];

    public override Task<IReadOnlySet<int>> OnlineAsync(IReadOnlyCollection<int> userIds)
    {
        lock (_claims)
        {
            return Task.FromResult<IReadOnlySet<int>>(userIds.Where(_claims.ContainsKey).ToHashSet());
        }
    }

    public override Task<IReadOnlyList<ReplicaUsers>> ReplicasAsync() =>
        Task.FromResult<IReadOnlyList<ReplicaUsers>>([new ReplicaUsers(server.Value.ReplicaId, UserCount)]);

    protected override Task<Claim> ClaimAsync(UserSession user)
    {
        lock (_claims)
        {
            if (!_claims.TryGetValue(user.Id, out var sessions))
            {
                _claims.Add(user.Id, [user.SessionId]);
                return Task.FromResult(Claim.First);
            }

            if (Devices == LoginPolicy.Reject)
            {
                return Task.FromResult(Claim.Refused);
            }

            sessions.Add(user.SessionId);
            return Task.FromResult(Devices == LoginPolicy.Replace ? Claim.Replaced : Claim.Another);
        }
    }

    protected override Task<bool> UnclaimAsync(UserSession user)
    {
        lock (_claims)
        {
            if (!_claims.TryGetValue(user.Id, out var sessions) || !sessions.Remove(user.SessionId) || sessions.Count > 0)
            {
                return Task.FromResult(false);
            }

            _claims.Remove(user.Id);
            return Task.FromResult(true);
        }
    }

    protected override Task SubscribeAsync(Topic topic) => Task.CompletedTask;

    protected override Task UnsubscribeAsync(Topic topic) => Task.CompletedTask;

    protected override void Publish(Delivery delivery)
    {
    }
}
