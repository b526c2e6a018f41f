using Chat.Domain;
using Chat.Protocol;

namespace Chat.Server.Sessions;

/// <summary>What a <see cref="Delivery"/> is, said by whoever made it and carried on the bus: never guessed from its seq or its frame.</summary>
public enum DeliveryKind : byte
{
    /// <summary>A stored chat message as it stands: every session gets it (a seed session a file as text, <see cref="Delivery.SeedFrame"/>).</summary>
    Message = 0,

    /// <summary>An event of the log (EDIT, RECALL, REACT): it has a seq; v2 sessions get it, a seed session's cursor passes it.</summary>
    Event = 1,

    /// <summary>A message recalled before it was delivered: a v2 session gets its tombstone, a seed session nothing.</summary>
    Recalled = 2,

    /// <summary>Live only (READ_NOTICE, TYPING, PRESENCE…): never stored, never moves a cursor, v2 sessions only.</summary>
    Push = 3,

    /// <summary>
    /// A push telling its recipient they are out of <see cref="Delivery.LeftGroup"/> (LEAVE_GROUP 21 or REMOVE_MEMBER 22):
    /// every session of the recipient stops receiving the group, seed sessions too; v2 ones also get the frame.
    /// </summary>
    GroupLeft = 4,

    /// <summary>Not a message: the user's sessions but <see cref="Delivery.ExceptSession"/> get the frame (an ERROR) and close.</summary>
    Close = 5,

    /// <summary>
    /// A PRESENCE push (offline) from a user who blocked its recipient: v2 sessions get the frame, and every session of
    /// the recipient stops watching the sender's presence (<see cref="Delivery.PresenceWithdrawnBy"/>).
    /// </summary>
    PresenceWithdrawn = 6,
}

/// <summary>
/// A frame on its way to recipients, built once and shared by all of them: a stored entry of a conversation's log
/// (seq 1 and up) or a push, as its <see cref="Kind"/> says. All travel the same routes: <c>ChatHub.Route</c>, the
/// bus, <c>UserSession.Deliver</c>.
/// </summary>
/// <param name="TargetId">The recipient (one-to-one) or the group.</param>
public sealed record Delivery(long ConversationId, long Seq, int SenderId, int TargetId, ReadOnlyMemory<byte> Frame)
{
    /// <summary>Made from the store's message: the seed frame is built from it, not read back from <see cref="Frame"/>.</summary>
    private ChatPush? Push { get; init; }

    /// <summary>0 until <see cref="SeedFrame"/> was asked for; then 1 (the frame serves) or 2 (<see cref="_seedFrame"/>).</summary>
    private int _seedState;
    private byte[]? _seedFrame;

    public DeliveryKind Kind { get; init; }

    public bool IsGroup => Domain.ConversationId.IsGroup(ConversationId);

    /// <summary>The one session (<see cref="UserSession.SessionId"/>) this does not go to, wherever it is: the one it came from. 0: none.</summary>
    public long ExceptSession { get; init; }

    /// <summary>The group a <see cref="DeliveryKind.GroupLeft"/> push says its recipient is out of; 0 otherwise.</summary>
    public int LeftGroup { get; init; }

    /// <summary>Live only: not stored, so not counted, deduplicated or sent to seed-protocol sessions.</summary>
    public bool IsPush => Kind is DeliveryKind.Push or DeliveryKind.GroupLeft or DeliveryKind.Close or DeliveryKind.PresenceWithdrawn;

    /// <summary>A seed-protocol session gets it: messages as they stand, not events, not recalled messages.</summary>
    public bool ForSeed => Kind == DeliveryKind.Message;

    /// <summary>
    /// The frame as a seed session gets it: a file as text after the caption (<c>caption [file: name, size]</c>), the
    /// same frame otherwise. Built at most once per delivery, however many seed sessions get it, from the stored message
    /// when this replica stored or read it (only a delivery from the bus reads its own frame back, once).
    /// </summary>
    public ReadOnlyMemory<byte> SeedFrame
    {
        get
        {
            switch (Volatile.Read(ref _seedState))
            {
                case 1:
                    return Frame;
                case 2:
                    return _seedFrame!;
            }

            var built = Push is { } push
                ? push.File is { } file ? ServerFrames.Chat(push with { Msg = file.SeedText(push.Msg), File = null }) : null
                : ServerFrames.ForSeed(Frame) is var seed && !seed.Equals(Frame) ? seed.ToArray() : null;
            _seedFrame = built;
            Volatile.Write(ref _seedState, built is null ? 1 : 2);
            return built ?? Frame;
        }
    }

    /// <summary>A push from <paramref name="senderId"/> to one user's v2 sessions.</summary>
    public static Delivery PushToUser(int senderId, int userId, ReadOnlyMemory<byte> frame) =>
        new(Domain.ConversationId.Direct(senderId, userId), 0, senderId, userId, frame) { Kind = DeliveryKind.Push };

    /// <summary>A push from <paramref name="senderId"/> to the v2 sessions of a group's other members.</summary>
    public static Delivery PushToGroup(int senderId, int groupId, ReadOnlyMemory<byte> frame) =>
        new(Domain.ConversationId.Group(groupId), 0, senderId, groupId, frame) { Kind = DeliveryKind.Push };

    /// <summary>Tells user <paramref name="userId"/> (<paramref name="frame"/>: LEAVE_GROUP or REMOVE_MEMBER) that they are out of <paramref name="groupId"/>.</summary>
    public static Delivery GroupLeftBy(int senderId, int userId, int groupId, ReadOnlyMemory<byte> frame) =>
        PushToUser(senderId, userId, frame) with { Kind = DeliveryKind.GroupLeft, LeftGroup = groupId };

    /// <summary>
    /// Tells user <paramref name="userId"/>'s sessions that <paramref name="blockerId"/> is offline to them, and that they
    /// hear no more of their presence (BLOCK).
    /// </summary>
    public static Delivery PresenceWithdrawnBy(int blockerId, int userId) =>
        PushToUser(blockerId, userId, ServerFrames.Presence(blockerId, online: false)) with { Kind = DeliveryKind.PresenceWithdrawn };

    /// <summary>
    /// Tells every session of <paramref name="userId"/> but <paramref name="newer"/>, on any replica, to close with
    /// <paramref name="frame"/>. Conversation 0 (no conversation), as replicas before bus version 4 know it.
    /// </summary>
    public static Delivery Closing(int userId, long newer, ReadOnlyMemory<byte> frame) =>
        new(0, 0, userId, userId, frame) { Kind = DeliveryKind.Close, ExceptSession = newer };

    /// <summary>A stored message with its frame, as every recipient gets it.</summary>
    public static Delivery Of(StoredMessage stored) => Sent(stored, 0);

    /// <summary>A message just stored, for its recipients and the sender's other sessions (not <paramref name="sendingSession"/>, which gets the ACK).</summary>
    public static Delivery Sent(StoredMessage stored, long sendingSession)
    {
        var m = stored.Message;
        if (m.Kind != EntryKind.Message)
        {
            return new Delivery(m.ConversationId, stored.Seq, m.SenderId, m.TargetId, ServerFrames.Event(EventPushOf(stored)))
            {
                Kind = DeliveryKind.Event,
                ExceptSession = sendingSession,
            };
        }

        var push = ChatPushOf(stored);
        return new Delivery(m.ConversationId, stored.Seq, m.SenderId, m.TargetId, ServerFrames.Chat(push))
        {
            Push = push,
            Kind = stored.Recalled ? DeliveryKind.Recalled : DeliveryKind.Message,
            ExceptSession = sendingSession,
        };
    }

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

    /// <summary>
    /// What a delivery from a replica that did not say (bus payloads before version 4) is: told, as those replicas did,
    /// by its seq, its conversation and the msgid its frame starts with.
    /// </summary>
    public static Delivery WithKindOfOlderReplica(Delivery delivery)
    {
        var msgId = ServerFrames.LeadingMsgId(delivery.Frame.Span);
        if (delivery.Seq > 0)
        {
            return msgId is >= (int)MsgId.Edit and <= (int)MsgId.React ? delivery with { Kind = DeliveryKind.Event } : delivery;
        }

        if (delivery.ConversationId == 0)
        {
            return delivery with { Kind = DeliveryKind.Close };
        }

        return msgId is (int)MsgId.LeaveGroup or (int)MsgId.RemoveMember && !delivery.IsGroup
            && ServerFrameReader.Read(delivery.Frame.Span[..^1]) is MemberGoneMessage gone
            ? delivery with { Kind = DeliveryKind.GroupLeft, LeftGroup = gone.GroupId }
            : delivery with { Kind = DeliveryKind.Push };
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
}
