using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Transport;

namespace Chat.Server.Sessions;

/// <summary>
/// One login of one user on one connection: who the connection is, the groups it belongs to, and per
/// conversation what has been queued (to drop duplicates) and what has been written (to move cursors).
/// Live deliveries that arrive while the login is still being answered are parked and released after LOGIN_ACK.
/// </summary>
/// <param name="modern">The login said <c>"v":2</c>: the session may be sent frame types the seed does not know (pushes).</param>
public sealed class UserSession(int id, string name, ChatConnection connection, ICursorWriter cursors, bool modern = false) : IDeliveryReceipt
{
    private readonly Dictionary<long, (SeqWatermark Queued, SeqWatermark Written)> _marks = [];
    private readonly HashSet<int> _groups = [];
    private List<Delivery>? _parked = [];
    private bool _ended;

    public int Id { get; } = id;

    public string Name { get; } = name;

    public ChatConnection Connection { get; } = connection;

    /// <summary>This login among all of the user's, cluster-wide (random, never 0): a delivery may skip it (<see cref="Delivery.ExceptSession"/>).</summary>
    public long SessionId { get; } = Random.Shared.NextInt64(1, long.MaxValue);

    /// <summary>A v2 login: pushes (<see cref="Delivery.IsPush"/>) reach it; a seed client never gets one.</summary>
    public bool Modern { get; } = modern;

    /// <summary>Read marks as this login knows them (READ).</summary>
    public ReadMarks Reads { get; } = new();

    /// <summary>The last chat send of this login: sends complete in order, and logout waits for them.</summary>
    public Task LastSend { get; set; } = Task.CompletedTask;

    private Lock Gate { get; } = new();

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

    /// <summary>The user is out of the group (LEAVE_GROUP, REMOVE_MEMBER): this login may no longer send to it.</summary>
    public void RemoveGroup(int groupId)
    {
        lock (Gate) _groups.Remove(groupId);
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

    /// <summary>
    /// Queues a stored message for this user, unless it is a duplicate, meant to skip this session, or the login has
    /// ended; a push only to a v2 login.
    /// </summary>
    public void Deliver(Delivery delivery)
    {
        lock (Gate)
        {
            if (_ended || delivery.ExceptSession == SessionId || (delivery.IsPush && !Modern))
            {
                return;
            }

            if (_parked is not null)
            {
                // The login is still being answered: the delivery goes out after LOGIN_ACK.
                _parked.Add(delivery);
                return;
            }

            Queue(delivery);
        }
    }

    /// <summary>
    /// Queues LOGIN_ACK (with the offline messages it carries), then the offline messages it had no room for, as
    /// ordinary chat frames paced by the connection's outgoing budget (at most <paramref name="window"/> bytes waiting),
    /// then whatever live messages arrived meanwhile, minus those already sent. Completes when all are queued.
    /// </summary>
    public async Task CompleteLoginAsync(ReadOnlyMemory<byte> ack, IReadOnlyList<(long ConversationId, long Seq)> inAck, IReadOnlyList<Delivery> rest, long window)
    {
        lock (Gate)
        {
            foreach (var (conversation, seq) in inAck)
            {
                TryQueue(conversation, seq);
            }

            Connection.Send(ack, this, Delivered.Many(inAck));
        }

        foreach (var delivery in rest)
        {
            if (Connection.QueuedBytes + delivery.Frame.Length > window)
            {
                // More as the client reads: never more than the window waits in its queue.
                await Connection.WhenWrittenAsync();
            }

            lock (Gate)
            {
                if (_ended)
                {
                    return;
                }

                Queue(delivery);
            }
        }

        lock (Gate)
        {
            foreach (var delivery in _parked ?? [])
            {
                Queue(delivery);
            }

            _parked = null;
        }
    }

    /// <summary>The login is over: nothing more is queued for it.</summary>
    public void End()
    {
        lock (Gate) _ended = true;
    }

    private void Queue(Delivery delivery)
    {
        if (delivery.IsPush)
        {
            Connection.Send(delivery.Frame);
        }
        else if (TryQueue(delivery.ConversationId, delivery.Seq))
        {
            // A seed session gets a file message as text (the frame is rebuilt only for one that carries a file).
            var frame = Modern ? delivery.Frame : ServerFrames.ForSeed(delivery.Frame);
            Connection.Send(frame, this, new Delivered(delivery.ConversationId, delivery.Seq));
        }
    }

    /// <summary>Marks a message as queued; false when it was queued (or seen) before.</summary>
    private bool TryQueue(long conversationId, long seq)
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
