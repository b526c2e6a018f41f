using System.Collections;

namespace Chat.Server.Transport;

/// <summary>
/// The logging scope of one connection: its id, the replica, and the user once logged in (read when a line is
/// written, so lines after LOGIN carry the user and lines after LOGINOUT do not).
/// </summary>
public sealed class ConnectionLogScope(ChatConnection connection, IConnectionState state, string replicaId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 3;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("ConnectionId", connection.ConnectionId),
        1 => new("ReplicaId", replicaId),
        2 => new("UserId", state.UserId),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => state.UserId is { } user
        ? $"Connection {connection.ConnectionId} user {user} on {replicaId}"
        : $"Connection {connection.ConnectionId} on {replicaId}";
}
