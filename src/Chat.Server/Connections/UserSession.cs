using Chat.Domain;

namespace Chat.Server.Connections;

/// <summary>
/// One login of one user on one connection: who the connection is, the groups it belongs to, and per
/// conversation what has been queued (to drop duplicates) and what has been written (to move cursors).
/// Live deliveries that arrive while the login is still being answered are parked and released after LOGIN_ACK.
/// </summary>
public sealed class UserSession(int id, string name, ICursorWriter cursors)
{
    private readonly Dictionary<long, (SeqWatermark Queued, SeqWatermark Written)> _marks = [];
    private readonly HashSet<int> _groups = [];
    private List<Delivery>? _parked = [];

    public int Id { get; } = id;

    public string Name { get; } = name;

    /// <summary>The last chat send of this login: sends complete in order, and logout waits for them.</summary>
    public Task LastSend { get; set; } = Task.CompletedTask;

    internal Lock Gate { get; } = new();

    public bool IsMember(int groupId)
    {
        lock (Gate) return _groups.Contains(groupId);
    }

    public int[] Groups()
    {
        lock (Gate) return [.. _groups];
    }

    /// <summary>Joins a group whose messages up to <paramref name="startSeq"/> are not this user's to receive.</summary>
    public void AddGroup(int groupId, long startSeq)
    {
        lock (Gate)
        {
            _groups.Add(groupId);
            Start(ConversationId.Group(groupId), startSeq);
        }
    }

    /// <summary>Sets where a conversation stands at login (its delivered-cursor).</summary>
    public void Start(long conversationId, long cursor)
    {
        lock (Gate)
        {
            _marks.TryAdd(conversationId, (new SeqWatermark(cursor), new SeqWatermark(cursor)));
        }
    }

    /// <summary>At login the client said it holds this conversation up to <paramref name="seq"/>: the cursor may move there.</summary>
    public void Seen(long conversationId, long seq) => cursors.Advance(Id, conversationId, seq);

    /// <summary>While the login is being answered: keeps the delivery for later and returns true.</summary>
    internal bool TryPark(Delivery delivery)
    {
        if (_parked is null)
        {
            return false;
        }

        _parked.Add(delivery);
        return true;
    }

    /// <summary>Ends parking and hands back what was parked, to be queued after LOGIN_ACK.</summary>
    internal List<Delivery> Unpark()
    {
        var parked = _parked ?? [];
        _parked = null;
        return parked;
    }

    /// <summary>Marks a message as queued; false when it was queued (or seen) before.</summary>
    internal bool TryQueue(long conversationId, long seq)
    {
        var queued = Marks(conversationId).Queued;
        if (queued.Contains(seq))
        {
            return false;
        }

        queued.Add(seq);
        return true;
    }

    /// <summary>A message of the user's own, stored: seen on both counts.</summary>
    public void Sent(long conversationId, long seq)
    {
        lock (Gate)
        {
            var (queued, written) = Marks(conversationId);
            queued.Add(seq);
            if (written.Add(seq)) cursors.Advance(Id, conversationId, written.Contiguous);
        }
    }

    /// <summary>A frame carrying this message reached the connection.</summary>
    public void Written(long conversationId, long seq)
    {
        lock (Gate)
        {
            var written = Marks(conversationId).Written;
            if (written.Add(seq)) cursors.Advance(Id, conversationId, written.Contiguous);
        }
    }

    private (SeqWatermark Queued, SeqWatermark Written) Marks(long conversationId)
    {
        if (!_marks.TryGetValue(conversationId, out var marks))
        {
            // A conversation that began after login: its cursor started at 0.
            marks = (new SeqWatermark(0), new SeqWatermark(0));
            _marks.Add(conversationId, marks);
        }

        return marks;
    }
}
