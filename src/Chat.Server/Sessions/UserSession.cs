using Chat.Domain;
using Chat.Server.Transport;

namespace Chat.Server.Sessions;

/// <summary>
/// One login of one user on one connection: who the connection is, the groups it belongs to, and per
/// conversation what has been queued (to drop duplicates and keep seq order) and what has been written (to move cursors).
/// Live deliveries that arrive while the login is still being answered are parked and released after LOGIN_ACK.
/// A conversation's entries are queued in seq order only: one that comes early waits behind the gap (see <see cref="GapFill"/>).
/// </summary>
/// <param name="v2">The login said <c>"v":2</c>: the session may be sent frame types the seed does not know (pushes).</param>
/// <param name="gaps">Fills gaps in arrival order; null: an early entry is queued at once (tests of other things).</param>
public sealed class UserSession(int id, string name, ChatConnection connection, ICursorWriter cursors, bool v2 = false, GapFill? gaps = null) : IDeliveryReceipt
{
    private readonly Dictionary<long, Line> _marks = [];
    private readonly HashSet<int> _groups = [];
    private List<Delivery>? _parked = [];
    private bool _ended;

    public int Id { get; } = id;

    public string Name { get; } = name;

    public ChatConnection Connection { get; } = connection;

    /// <summary>This login among all of the user's, cluster-wide (random, never 0): a delivery may skip it (<see cref="Delivery.ExceptSession"/>).</summary>
    public long SessionId { get; } = Random.Shared.NextInt64(1, long.MaxValue);

    /// <summary>A v2 login: pushes (<see cref="Delivery.IsPush"/>) reach it; a seed client never gets one.</summary>
    public bool IsV2 { get; } = v2;

    /// <summary>Read marks as this login knows them (READ).</summary>
    public ReadMarks Reads { get; } = new();

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
            var conversationId = ConversationId.Group(groupId);
            if (_marks.TryGetValue(conversationId, out var line) && line.Queued.Contiguous < startSeq)
            {
                // Joined again after leaving: what was written meanwhile is not this user's.
                line.Timer?.Dispose();
                _marks.Remove(conversationId);
            }

            Start(conversationId, startSeq);
        }
    }

    /// <summary>The user is out of the group (LEAVE_GROUP, REMOVE_MEMBER): this login may no longer send to it.</summary>
    public void RemoveGroup(int groupId)
    {
        lock (Gate) _groups.Remove(groupId);
    }

    /// <summary>
    /// Sets where a conversation stands at login: its delivered-cursor, and its newest seq then (<paramref name="lastSeq"/>):
    /// once LOGIN_ACK and the offline messages after it are queued, whatever is up to that seq was dealt with by the login,
    /// and live entries are released in order from there.
    /// </summary>
    public void Start(long conversationId, long cursor, long lastSeq = 0)
    {
        lock (Gate)
        {
            _marks.TryAdd(conversationId, new Line(cursor, Math.Max(cursor, lastSeq)));
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
            if (_ended || delivery.ExceptSession == SessionId || (delivery.IsPush && !IsV2))
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

                // From the store, in seq order per conversation already; the user's own are not among them, so no gap waits.
                var line = Marks(delivery.ConversationId);
                if (!line.Queued.Contains(delivery.Seq))
                {
                    Release(line, delivery);
                }
            }
        }

        lock (Gate)
        {
            foreach (var line in _marks.Values)
            {
                // Up to its newest seq at login, a conversation was the login's: delivered, the user's own, or left for the next login.
                line.Queued.Skip(line.LoginSeq);
            }

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
        lock (Gate)
        {
            _ended = true;
            foreach (var line in _marks.Values)
            {
                line.Timer?.Dispose();
            }
        }
    }

    private void Queue(Delivery delivery)
    {
        if (delivery.IsPush)
        {
            Connection.Send(delivery.Frame);
            return;
        }

        var line = Marks(delivery.ConversationId);
        if (line.Queued.Contains(delivery.Seq))
        {
            return;
        }

        if (gaps is not null && delivery.Seq != line.Queued.Contiguous + 1)
        {
            Hold(line, delivery);
            return;
        }

        Release(line, delivery);
        ReleaseHeld(line);
    }

    private void Release(Line line, Delivery delivery)
    {
        line.Queued.Add(delivery.Seq);
        if (!IsV2 && !delivery.ForSeed)
        {
            // An event, or a message recalled before it was delivered: a seed client never sees it, but its seq is
            // passed, so the delivered-cursor moves over it (it only moves along unbroken runs).
            if (line.Written.Add(delivery.Seq)) cursors.Advance(Id, delivery.ConversationId, line.Written.Contiguous);
            return;
        }

        // A seed session gets a file message as text (built once per delivery, for all of them).
        var frame = IsV2 ? delivery.Frame : delivery.SeedFrame;
        Connection.Send(frame, this, new Delivered(delivery.ConversationId, delivery.Seq));
    }

    /// <summary>Queues the held entries that are next in line now; drops those that turned out to be duplicates.</summary>
    private void ReleaseHeld(Line line)
    {
        while (line.Held is { Count: > 0 } held)
        {
            var (seq, delivery) = (held.Keys[0], held.Values[0]);
            if (line.Queued.Contains(seq))
            {
                held.RemoveAt(0);
            }
            else if (seq == line.Queued.Contiguous + 1)
            {
                held.RemoveAt(0);
                Release(line, delivery);
            }
            else
            {
                return;
            }
        }

        line.Timer?.Dispose();
        line.Timer = null;
    }

    /// <summary>An entry came before one with a lower seq: it waits, and a timer gives the gap its time to fill.</summary>
    private void Hold(Line line, Delivery delivery)
    {
        var held = line.Held ??= [];
        held.TryAdd(delivery.Seq, delivery);
        if (held.Count > gaps!.MaxHeld)
        {
            SkipGap(line);
        }
        else if (line.Timer is null && !line.Filling)
        {
            line.Timer = gaps.Arm(() => _ = FillAsync(delivery.ConversationId));
        }
    }

    /// <summary>The gap stayed open: what the store has of it is released in order, the rest is skipped.</summary>
    private async Task FillAsync(long conversationId)
    {
        long after, before;
        lock (Gate)
        {
            var line = Marks(conversationId);
            line.Timer?.Dispose();
            line.Timer = null;
            if (_ended || line.Held is not { Count: > 0 } held)
            {
                return;
            }

            (after, before, line.Filling) = (line.Queued.Contiguous, held.Keys[0], true);
        }

        IReadOnlyList<Delivery> missing;
        try
        {
            missing = await gaps!.MissingAsync(Id, conversationId, after, before);
        }
        catch (Exception)
        {
            missing = []; // the store is away: the gap is skipped, and comes at the next login
        }

        lock (Gate)
        {
            var line = Marks(conversationId);
            line.Filling = false;
            if (_ended)
            {
                return;
            }

            foreach (var delivery in missing)
            {
                // The user's own come to a session as ACKs, or to its other sessions live: a gap never sends them.
                if (delivery.SenderId != Id && !line.Queued.Contains(delivery.Seq))
                {
                    line.Queued.Skip(delivery.Seq - 1);
                    Release(line, delivery);
                }
            }

            SkipGap(line);
        }
    }

    /// <summary>Gives up the gap before the first held entry: the held ones go out in order, a later gap waits anew.</summary>
    private void SkipGap(Line line)
    {
        if (line.Held is { Count: > 0 } held)
        {
            line.Queued.Skip(held.Keys[0] - 1);
            ReleaseHeld(line);
            if (held.Count > 0 && line.Timer is null)
            {
                var conversationId = held.Values[0].ConversationId;
                line.Timer = gaps!.Arm(() => _ = FillAsync(conversationId));
            }
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
            var line = Marks(conversationId);
            line.Queued.Add(seq);
            if (line.Written.Add(seq)) cursors.Advance(Id, conversationId, line.Written.Contiguous);
            ReleaseHeld(line); // entries of others after it may have waited for it
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

    private Line Marks(long conversationId)
    {
        if (!_marks.TryGetValue(conversationId, out var marks))
        {
            // A conversation that began after login: its cursor started at 0.
            marks = new Line(0, 0);
            _marks.Add(conversationId, marks);
        }

        return marks;
    }

    /// <summary>One conversation as this login receives it.</summary>
    /// <param name="cursor">Where it starts.</param>
    /// <param name="loginSeq">Its newest seq when the login read it: up to there, the login's offline messages answered for it.</param>
    private sealed class Line(long cursor, long loginSeq)
    {
        public long LoginSeq { get; } = loginSeq;

        /// <summary>Queued for the connection (in seq order), or the user's own, or given up as a gap.</summary>
        public SeqWatermark Queued { get; } = new(cursor);

        /// <summary>Written to the connection: the delivered-cursor moves along its unbroken run only.</summary>
        public SeqWatermark Written { get; } = new(cursor);

        /// <summary>Entries that came before a lower seq, by seq.</summary>
        public SortedList<long, Delivery>? Held { get; set; }

        public ITimer? Timer { get; set; }

        /// <summary>The store is being asked for the gap.</summary>
        public bool Filling { get; set; }
    }
}
