using Chat.Domain;
using Chat.Protocol;

namespace Chat.Server.Sessions;

/// <summary>
/// A frame on its way to recipients, built once and shared by all of them: a stored chat message (seq 1 and up),
/// or a push (seq 0: READ_NOTICE, TYPING, PRESENCE…) that is never stored, never moves a cursor, and reaches v2
/// sessions only. Both travel the same routes: <c>ChatHub.Route</c>, the bus, <c>UserSession.Deliver</c>.
/// </summary>
/// <param name="TargetId">The recipient (one-to-one) or the group.</param>
public sealed record Delivery(long ConversationId, long Seq, int SenderId, int TargetId, ReadOnlyMemory<byte> Frame)
{
    public bool IsGroup => Domain.ConversationId.IsGroup(ConversationId);

    /// <summary>The one session (<see cref="UserSession.SessionId"/>) this does not go to, wherever it is: the one it came from. 0: none.</summary>
    public long ExceptSession { get; init; }

    /// <summary>Live only: not stored, so not counted, deduplicated or sent to seed-protocol sessions.</summary>
    public bool IsPush => Seq == 0;

    /// <summary>
    /// The group this push says its recipient is out of (LEAVE_GROUP 21 or REMOVE_MEMBER 22, built by
    /// <see cref="ServerFrames.MemberGone"/>): every session of the recipient stops receiving it, seed sessions too. Null otherwise.
    /// </summary>
    public int? GroupLeft =>
        IsPush && ServerFrames.LeadingMsgId(Frame.Span) is (int)MsgId.LeaveGroup or (int)MsgId.RemoveMember
            && ServerFrameReader.Read(Frame.Span[..^1]) is MemberGoneMessage gone
            ? gone.GroupId
            : null;

    /// <summary>
    /// The user this PRESENCE push stops its recipient hearing of: a presence push is about its sender, and one
    /// addressed to another user than the sender is the sender withdrawing it (BLOCK, <c>ChatHub.WithdrawPresence</c>).
    /// Null otherwise.
    /// </summary>
    public int? PresenceWithdrawn =>
        IsPush && !IsGroup && TargetId != SenderId && ServerFrames.LeadingMsgId(Frame.Span) == (int)MsgId.Presence ? SenderId : null;

    /// <summary>A push from <paramref name="senderId"/> to one user's v2 sessions.</summary>
    public static Delivery PushToUser(int senderId, int userId, ReadOnlyMemory<byte> frame) =>
        new(Domain.ConversationId.Direct(senderId, userId), 0, senderId, userId, frame);

    /// <summary>A push from <paramref name="senderId"/> to the v2 sessions of a group's other members.</summary>
    public static Delivery PushToGroup(int senderId, int groupId, ReadOnlyMemory<byte> frame) =>
        new(Domain.ConversationId.Group(groupId), 0, senderId, groupId, frame);

    /// <summary>
    /// Not a message: the user's sessions other than <see cref="ExceptSession"/> (the newer login) get
    /// <see cref="Frame"/> (ERROR errno 12), seed-protocol ones too, and close. Conversation 0 is no conversation.
    /// </summary>
    public bool IsReplacement => ConversationId == 0;

    /// <summary>A stored message with its frame, as every recipient gets it.</summary>
    public static Delivery Of(StoredMessage stored) => Sent(stored, 0);

    /// <summary>A stored message as a seed session gets it: a file as text after the caption (<c>caption [file: name, size]</c>).</summary>
    public static Delivery SeedOf(StoredMessage stored) =>
        stored.Message.File is { } f
            ? Of(stored with { Message = stored.Message with { Body = new ChatFile(f.Id, f.Name, f.Size, f.Type, f.Thumb).SeedText(stored.Message.Body), File = null } })
            : Of(stored);

    /// <summary>A message just stored, for its recipients and the sender's other sessions (not <paramref name="sendingSession"/>, which gets the ACK).</summary>
    public static Delivery Sent(StoredMessage stored, long sendingSession)
    {
        var m = stored.Message;
        var frame = m.Kind == EntryKind.Message ? ServerFrames.Chat(ChatPushOf(stored)) : ServerFrames.Event(EventPushOf(stored));
        return new Delivery(m.ConversationId, stored.Seq, m.SenderId, m.TargetId, frame)
        {
            ExceptSession = sendingSession,
            Recalled = stored.Recalled,
        };
    }

    // ---- The conversation is a log (issue 21). ----

    /// <summary>A message recalled before it was delivered: a v2 session gets its tombstone, a seed session nothing.</summary>
    public bool Recalled { get; init; }

    /// <summary>An event of the log (EDIT, RECALL, REACT): it has a seq, but a seed session is never sent it.</summary>
    public bool IsEvent => !IsPush && ServerFrames.LeadingMsgId(Frame.Span) is >= (int)MsgId.Edit and <= (int)MsgId.React;

    /// <summary>A seed-protocol session gets it: messages as they stand, not events, not recalled messages.</summary>
    public bool ForSeed => !Recalled && !IsEvent;

    /// <summary>A stored message as its chat frame carries it: the quote it answers and how it stands now.</summary>
    public static ChatPush ChatPushOf(StoredMessage stored)
    {
        var m = stored.Message;
        var file = m.File is { } f && !stored.Recalled ? new ChatFile(f.Id, f.Name, f.Size, f.Type, f.Thumb) : null;
        return new ChatPush(m.IsGroup, m.SenderId, m.SenderName, m.TargetId, stored.Recalled ? "" : m.Body, m.ClientTime, stored.Seq, m.Ts, file)
        {
            Reply = stored.Reply is { } q ? new QuoteEntry(q.Seq, q.SenderId, q.SenderName, q.Text, q.Recalled) : null,
            Edited = stored.EditedTs,
            Recalled = stored.Recalled,
            Reactions = [.. stored.Reactions.Select(r => new ReactionEntry(r.Emoji, r.UserIds))],
        };
    }

    private static EventPush EventPushOf(StoredMessage stored)
    {
        var m = stored.Message;
        var kind = m.Kind switch
        {
            EntryKind.Edit => MsgId.Edit,
            EntryKind.Recall => MsgId.Recall,
            _ => MsgId.React,
        };
        return new EventPush(kind, m.IsGroup, m.SenderId, m.SenderName, m.TargetId, stored.Seq, m.Ref ?? 0, m.Body, m.Kind != EntryKind.Unreact, m.Ts);
    }

    /// <summary>Tells every session of <paramref name="userId"/> but <paramref name="newer"/>, on any replica, that it was replaced.</summary>
    public static Delivery Replacing(int userId, long newer, ReadOnlyMemory<byte> frame) =>
        new(0, 0, userId, userId, frame) { ExceptSession = newer };
}
