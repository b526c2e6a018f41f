namespace Chat.Bench;

/// <summary>
/// Every message the bench sends, by its number (1, 2, …): when it was sent, how many deliveries it should get,
/// how many it got, whether it was acknowledged. Safe from any thread; grows in chunks, so millions of messages
/// cost 24 bytes each and no locks on the hot path.
/// </summary>
public sealed class MessageLedger
{
    private const int ChunkBits = 16;
    private const int ChunkSize = 1 << ChunkBits;

    private readonly Entry[]?[] _chunks = new Entry[1 << 15][];
    private readonly Lock _grow = new();
    private long _last;
    private long _acked;
    private long _rejected;
    private long _deliveries;
    private long _duplicates;
    private long _unknown;
    private long _expectedOfAcked;

    public long Sent => Volatile.Read(ref _last);

    public long Acked => Volatile.Read(ref _acked);

    /// <summary>ACKs with an errno: the server refused the message.</summary>
    public long Rejected => Volatile.Read(ref _rejected);

    /// <summary>First deliveries of a message to each of its recipients (repeats are <see cref="Duplicates"/>).</summary>
    public long Delivered => Volatile.Read(ref _deliveries);

    public long Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Chat frames or ACKs naming no message this bench sent.</summary>
    public long Unknown => Volatile.Read(ref _unknown);

    /// <summary>Every message answered and every acknowledged message delivered to all its recipients.</summary>
    public bool Settled => Acked + Rejected >= Sent && Delivered >= Volatile.Read(ref _expectedOfAcked);

    /// <summary>Numbers a new message that <paramref name="recipients"/> should receive, sent (or scheduled) at
    /// <paramref name="sentAt"/> (a <see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    public long Register(int recipients, long sentAt)
    {
        var id = Interlocked.Increment(ref _last);
        ref var entry = ref Slot(id, create: true);
        entry.SentAt = sentAt;
        Volatile.Write(ref entry.Expected, recipients);
        return id;
    }

    public void Ack(long id, bool ok)
    {
        if (id < 1 || id > Sent)
        {
            Interlocked.Increment(ref _unknown);
            return;
        }

        ref var entry = ref Slot(id, create: false);
        if (Interlocked.CompareExchange(ref entry.Ack, ok ? 1 : 2, 0) != 0) return;
        if (ok)
        {
            Interlocked.Add(ref _expectedOfAcked, Volatile.Read(ref entry.Expected));
            Interlocked.Increment(ref _acked);
        }
        else
        {
            Interlocked.Increment(ref _rejected);
        }
    }

    /// <summary>Counts one delivery; returns the message's send timestamp, or -1 for a repeat or an unknown number.</summary>
    public long Deliver(long id)
    {
        if (id < 1 || id > Sent)
        {
            Interlocked.Increment(ref _unknown);
            return -1;
        }

        ref var entry = ref Slot(id, create: false);
        if (Interlocked.Increment(ref entry.Delivered) > Volatile.Read(ref entry.Expected))
        {
            Interlocked.Increment(ref _duplicates);
            return -1;
        }

        Interlocked.Increment(ref _deliveries);
        return entry.SentAt;
    }

    /// <summary>After the run: deliveries an acknowledged message never got (lost), and messages never answered.</summary>
    public (long Lost, long TimedOut) Reconcile()
    {
        long lost = 0, timedOut = 0;
        for (long id = 1; id <= Sent; id++)
        {
            ref var entry = ref Slot(id, create: false);
            switch (Volatile.Read(ref entry.Ack))
            {
                case 0:
                    timedOut++;
                    break;
                case 1:
                    lost += Math.Max(0, entry.Expected - Volatile.Read(ref entry.Delivered));
                    break;
            }
        }

        return (lost, timedOut);
    }

    private ref Entry Slot(long id, bool create)
    {
        var chunk = (int)(id >> ChunkBits);
        var entries = Volatile.Read(ref _chunks[chunk]);
        if (entries is null)
        {
            if (!create) throw new InvalidOperationException($"message {id} was never registered");
            lock (_grow)
            {
                entries = _chunks[chunk] ??= new Entry[ChunkSize];
            }
        }

        return ref entries[id & (ChunkSize - 1)];
    }

    private struct Entry
    {
        public long SentAt;
        public int Expected;
        public int Delivered;
        public int Ack;
    }
}
