using System.Collections;

namespace Chat.Server.Connections;

/// <summary>
/// The logging scope of one connection: its id, the replica, and the user once logged in (read when a line is
/// written, so lines after LOGIN carry the user and lines after LOGINOUT do not).
/// </summary>
public sealed class ConnectionLogScope(ChatSession session, string replicaId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 3;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("ConnectionId", session.ConnectionId),
        1 => new("ReplicaId", replicaId),
        2 => new("UserId", session.User?.Id),
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

    public override string ToString() => session.User is { } user
        ? $"Connection {session.ConnectionId} user {user.Id} on {replicaId}"
        : $"Connection {session.ConnectionId} on {replicaId}";
}
