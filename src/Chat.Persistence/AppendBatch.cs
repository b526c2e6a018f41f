using System.Globalization;
using System.Text;
using Chat.Domain;

namespace Chat.Persistence;

internal readonly record struct PendingAppend(ChatMessage Message, TaskCompletionSource<AppendResult> Completion);

/// <summary>
/// One step that differs per engine: store a batch's messages in one transaction on an open connection and
/// report each one's seq (<see cref="AppendBatch.Stored"/>), or the row already stored under its cid
/// (<see cref="AppendBatch.Repeat"/>). Seqs are gapless per conversation, in the order of the batch.
/// </summary>
internal interface IAppendStatement : IDisposable
{
    Task ExecuteAsync(System.Data.Common.DbConnection connection, AppendBatch batch, CancellationToken ct);
}

/// <summary>
/// One batch's state, reused from batch to batch by a writer lane. The statements see only the messages to
/// send (positions 0 .. <see cref="Count"/> - 1): a (sender, cid) repeated within the batch is sent once.
/// </summary>
internal sealed class AppendBatch(int capacity)
{
    private readonly Dictionary<(int Sender, string ClientId), int> _firstByClientId = [];

    public List<PendingAppend> Items { get; } = new(capacity);

    /// <summary>Item index of the message at each position.</summary>
    public List<int> Sent { get; } = new(capacity);

    /// <summary>Per item: -1 when sent, else the index of the earlier item with the same (sender, cid).</summary>
    public List<int> RepeatOf { get; } = new(capacity);

    public AppendResult?[] Results { get; } = new AppendResult?[capacity];

    // The columns of the messages to send, one list each, by position (PostgreSQL sends them as arrays).
    public List<long> Conversations { get; } = new(capacity);

    public List<int> Senders { get; } = new(capacity);

    public List<string> SenderNames { get; } = new(capacity);

    public List<string> Bodies { get; } = new(capacity);

    public List<string> ClientTimes { get; } = new(capacity);

    public List<long> Timestamps { get; } = new(capacity);

    public List<string?> ClientIds { get; } = new(capacity);

    /// <summary>The writer lane's id and this batch's number in it: the key of its mark (<see cref="AppendMarks"/>).</summary>
    public long LaneId { get; init; }

    public long Number { get; set; }

    // The conversation is a log (issue 21): each entry's kind, the message an event names, the message a reply answers.
    public List<short> Kinds { get; } = new(capacity);

    public List<long?> Refs { get; } = new(capacity);

    public List<long?> ReplySeqs { get; } = new(capacity);

    /// <summary>Positions of the events stored by this attempt (not repeats), in the order they took their seqs.</summary>
    public List<int> FreshEvents { get; } = new(capacity);

    /// <summary>Some entry to send is an event: the statement then changes the messages they name, in the same transaction.</summary>
    public bool HasEvents => Kinds.Exists(k => k != (short)EntryKind.Message);

    // Webhooks (issue 24): per position, the users a fresh message is announced to as message.offline (empty: none asked).
    public List<IReadOnlyList<int>?> Offline { get; } = new(capacity);

    /// <summary>Some message has an offline recipient to announce: the statement then writes outbox rows in the same transaction.</summary>
    public bool HasOutbox => Offline.Exists(o => o is { Count: > 0 });

    /// <summary>The seq the entry at <paramref name="position"/> was stored with by this attempt; null when it repeated a stored cid.</summary>
    public long? FreshSeq(int position) => Results[Sent[position]] is { Duplicate: false } r ? r.Stored.Seq : null;

    /// <summary>The seq the entry at <paramref name="position"/> was stored with by this attempt.</summary>
    public long SeqAt(int position) => Results[Sent[position]]!.Stored.Seq;

    /// <summary>Messages to send.</summary>
    public int Count => Sent.Count;

    public ChatMessage this[int position] => Items[Sent[position]].Message;

    public void Clear()
    {
        Items.Clear();
        Sent.Clear();
        RepeatOf.Clear();
        Conversations.Clear();
        Senders.Clear();
        SenderNames.Clear();
        Bodies.Clear();
        ClientTimes.Clear();
        Timestamps.Clear();
        ClientIds.Clear();
        Kinds.Clear();
        Refs.Clear();
        ReplySeqs.Clear();
        FreshEvents.Clear();
        Offline.Clear();
        _firstByClientId.Clear();
    }

    /// <summary>Fills the columns, sending a (sender, cid) repeated within the batch only once.</summary>
    public void Prepare()
    {
        for (var i = 0; i < Items.Count; i++)
        {
            var m = Items[i].Message;
            if (m.ClientId is not null && !_firstByClientId.TryAdd((m.SenderId, m.ClientId), i))
            {
                RepeatOf.Add(_firstByClientId[(m.SenderId, m.ClientId)]);
                continue;
            }

            RepeatOf.Add(-1);
            Sent.Add(i);
            Conversations.Add(m.ConversationId);
            Senders.Add(m.SenderId);
            SenderNames.Add(m.SenderName);
            Bodies.Add(m.Body);
            ClientTimes.Add(m.ClientTime);
            Timestamps.Add(m.Ts);
            ClientIds.Add(m.ClientId);
            Kinds.Add((short)m.Kind);
            Refs.Add(m.Ref);
            ReplySeqs.Add(m.ReplySeq);
        }
    }

    /// <summary>Whether the message at <paramref name="position"/> has a result yet.</summary>
    public bool Answered(int position) => Results[Sent[position]] is not null;

    /// <summary>The seqs of the messages stored fresh so far, as <c>position:seq</c> pairs (1-based), for the batch's mark.</summary>
    public string FreshSeqs()
    {
        var text = new StringBuilder();
        for (var p = 0; p < Count; p++)
        {
            if (Results[Sent[p]] is { Duplicate: false } result)
            {
                text.Append(text.Length == 0 ? "" : ",").Append((p + 1).ToString(CultureInfo.InvariantCulture)).Append(':').Append(result.Stored.Seq.ToString(CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    /// <summary>Forgets the results of a failed attempt.</summary>
    public void ResetResults()
    {
        Array.Clear(Results, 0, Items.Count);
        FreshEvents.Clear();
    }

    /// <summary>The message at <paramref name="position"/> was stored with <paramref name="seq"/>.</summary>
    public void Stored(int position, long seq)
    {
        var index = Sent[position];
        Results[index] = new AppendResult(new StoredMessage(Items[index].Message, seq), Duplicate: false);
        if (Kinds[position] != (short)EntryKind.Message)
        {
            FreshEvents.Add(position);
        }
    }

    /// <summary>The message at <paramref name="position"/> repeats a stored one (same sender and cid): answered with that.</summary>
    public void Repeat(int position, long conversation, long seq, string senderName, string body, string clientTime, long ts)
    {
        var index = Sent[position];
        var submitted = Items[index].Message;
        var stored = submitted with
        {
            ConversationId = conversation,
            TargetId = ConversationId.IsGroup(conversation) ? (int)conversation : ConversationId.Peer(conversation, submitted.SenderId),
            SenderName = senderName,
            Body = body,
            ClientTime = clientTime,
            Ts = ts,
        };
        Results[index] = new AppendResult(new StoredMessage(stored, seq), Duplicate: true);
    }

    /// <summary>Completes every sender: with its result, or an error when the store reported none.</summary>
    public void Complete()
    {
        for (var i = 0; i < Items.Count; i++)
        {
            var first = RepeatOf[i];
            var result = first < 0
                ? Results[i]
                : Results[first] is { } earlier ? earlier with { Duplicate = true } : null;
            if (result is null)
            {
                Items[i].Completion.TrySetException(new InvalidOperationException("The store returned no seq for a message."));
            }
            else
            {
                Items[i].Completion.TrySetResult(result);
            }
        }
    }

    public void Fail(Exception ex)
    {
        foreach (var pending in Items)
        {
            pending.Completion.TrySetException(ex);
        }
    }
}
