using System.Buffers;
using System.Text.Json;

namespace Chat.Protocol;

/// <summary>
/// Reads one server → client frame into a typed <see cref="ServerMessage"/>: what <see cref="ServerFrames"/> writes,
/// and what the seed's server writes (LOGIN_ACK lists whose entries are strings holding JSON documents, a group's
/// users nested as strings once more; chat frames without seq). Unknown fields are skipped and a known field of
/// another type reads as absent.
/// </summary>
public static class ServerFrameReader
{
    /// <param name="frame">One frame, without its newline.</param>
    /// <exception cref="JsonException">The frame is not a JSON object.</exception>
    public static ServerMessage Read(ReadOnlySpan<byte> frame)
    {
        try
        {
            var reader = ServerFields.Open(frame);
            var fields = new Fields();
            ReadObject(ref reader, ref fields);
            return fields.ToMessage();
        }
        catch (InvalidOperationException e)
        {
            throw new JsonException("a server frame holds a string no text can hold", e);
        }
    }

    /// <summary>Reads the fields of the object the reader is on, up to its closing brace.</summary>
    private static void ReadObject(ref Utf8JsonReader reader, ref Fields f)
    {
        while (ServerFields.Next(ref reader, out var field))
        {
            switch (field)
            {
                case ServerField.MsgId: f.MsgId = Int(ref reader); break;
                case ServerField.Cid: f.Cid = Cid.Read(ref reader); break;
                case ServerField.Errno: f.Errno = Int(ref reader); break;
                case ServerField.Seq: f.Seq = Long(ref reader); break;
                case ServerField.Ts: f.Ts = Long(ref reader); break;
                case ServerField.Id: f.Id = Int(ref reader); break;
                case ServerField.Name: f.Name = Text(ref reader); break;
                case ServerField.ToId: f.ToId = Int(ref reader); break;
                case ServerField.GroupId: f.GroupId = Int(ref reader); break;
                case ServerField.Msg: f.Msg = Text(ref reader); break;
                case ServerField.Time: f.Time = Text(ref reader); break;
                case ServerField.ErrMsg: f.ErrMsg = Text(ref reader); break;
                case ServerField.Req: f.Req = Int(ref reader); break;
                case ServerField.Peer: f.Peer = Int(ref reader); break;
                case ServerField.State: f.Online = Is(ref reader, Field.Online); break;
                case ServerField.Role: f.Creator = Is(ref reader, Field.Creator) ? true : Is(ref reader, Field.Normal) ? false : null; break;
                case ServerField.GroupName: f.GroupName = Text(ref reader); break;
                case ServerField.GroupDesc: f.GroupDesc = Text(ref reader); break;
                case ServerField.Users: f.Users = ReadList(ref reader, static e => e.ToUser()); break;
                case ServerField.Friends: f.Friends = ReadList(ref reader, static e => e.ToUser()); break;
                case ServerField.Groups: f.Groups = ReadList(ref reader, static e => e.ToGroup()); break;
                case ServerField.OfflineMsg: f.Offline = ReadList(ref reader, static e => e.MsgId is >= (int)Protocol.MsgId.Edit and <= (int)Protocol.MsgId.React ? e.ToMessage() : e.ToChat()); break;
                case ServerField.Convs: f.Convs = ReadList(ref reader, static e => e.ToConversation()); break;
                case ServerField.Token: f.Token = Text(ref reader); break;
                case ServerField.More: f.More = reader.TokenType == JsonTokenType.True; break;
                case ServerField.Messages: f.Messages = ReadList(ref reader, static e => e.ToChat()); break;
                case ServerField.Read: f.Read = Long(ref reader); break;
                case ServerField.Unread: f.Unread = Long(ref reader); break;
                case ServerField.UserId: f.UserId = Int(ref reader); break;
                case ServerField.By: f.By = Int(ref reader); break;
                case ServerField.Ref: f.Ref = Long(ref reader); break;
                case ServerField.Emoji: f.Emoji = Text(ref reader); break;
                case ServerField.On: f.On = reader.TokenType != JsonTokenType.False; break;
                case ServerField.Edited: f.Edited = Long(ref reader); break;
                case ServerField.Recalled: f.Recalled = reader.TokenType == JsonTokenType.True; break;
                case ServerField.Reply: f.Reply = ReadQuote(ref reader); break;
                case ServerField.Reactions: f.Reactions = ReadList(ref reader, static e => new ReactionEntry(e.Emoji ?? "", e.Ids ?? [])); break;
                case ServerField.Ids: f.Ids = ReadInts(ref reader); break;
                case ServerField.File: f.File = ReadFile(ref reader); break;
                case ServerField.About: f.About = Text(ref reader); break;
                case ServerField.Avatar: f.Avatar = Text(ref reader); break;
                default: reader.Skip(); break;
            }
        }
    }

    /// <summary>A list of objects (v2) or of strings that hold them (the seed's form); other entries are skipped.</summary>
    private static List<T> ReadList<T>(ref Utf8JsonReader reader, Func<Fields, T> build)
    {
        var list = new List<T>();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return list;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var entry = new Fields();
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                ReadObject(ref reader, ref entry);
            }
            else if (reader.TokenType == JsonTokenType.String)
            {
                ReadDocument(ref reader, ref entry);
            }
            else
            {
                reader.Skip();
                continue;
            }

            list.Add(build(entry));
        }

        return list;
    }

    private static QuoteEntry? ReadQuote(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        var q = new Fields();
        ReadObject(ref reader, ref q);
        return new QuoteEntry(q.Seq ?? 0, q.Id ?? 0, q.Name ?? "", q.Msg ?? "", q.Recalled);
    }

    private static List<int> ReadInts(ref Utf8JsonReader reader)
    {
        var list = new List<int>();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return list;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (Int(ref reader) is { } id) list.Add(id);
            else reader.Skip();
        }

        return list;
    }

    /// <summary>The seed's form: the string's text is itself a JSON object.</summary>
    private static void ReadDocument(ref Utf8JsonReader reader, ref Fields entry)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length);
        try
        {
            var nested = ServerFields.Open(buffer.AsSpan(0, reader.CopyString(buffer)));
            ReadObject(ref nested, ref entry);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A chat message's <c>file</c> object; null when it is not one.</summary>
    private static ChatFile? ReadFile(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? id = null, name = null, type = null;
        long size = 0;
        var thumb = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(Field.Id.EncodedUtf8Bytes)) { reader.Read(); id = Text(ref reader); }
            else if (reader.ValueTextEquals(Field.Name.EncodedUtf8Bytes)) { reader.Read(); name = Text(ref reader); }
            else if (reader.ValueTextEquals(Field.Type.EncodedUtf8Bytes)) { reader.Read(); type = Text(ref reader); }
            else if (reader.ValueTextEquals(Field.Size.EncodedUtf8Bytes)) { reader.Read(); size = Long(ref reader) ?? 0; }
            else if (reader.ValueTextEquals(Field.Thumb.EncodedUtf8Bytes)) { reader.Read(); thumb = reader.TokenType == JsonTokenType.True; }
            else { reader.Read(); reader.Skip(); }
        }

        return id is null ? null : new ChatFile(id, name ?? "", size, type ?? "application/octet-stream", thumb);
    }

    private static int? Int(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : null;

    private static long? Long(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : null;

    private static bool Is(ref Utf8JsonReader reader, JsonEncodedText value) =>
        reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(value.EncodedUtf8Bytes);

    private static string? Text(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString() : null;

    /// <summary>Every field an object from the server may carry; each shape takes the ones it has.</summary>
    private struct Fields
    {
        public int? MsgId, Errno, Req, Id, ToId, GroupId, Peer;
        public long? Seq, Ts;
        public string? Name, Msg, Time, ErrMsg, GroupName, GroupDesc, Token;
        public bool Online, More;
        public bool? Creator;
        public Cid? Cid;
        public List<UserEntry>? Users, Friends;
        public List<GroupEntry>? Groups;
        public List<ServerMessage>? Offline;
        public List<ConversationEntry>? Convs;
        public List<ChatReceived>? Messages;
        public long? Read, Unread;
        public int? UserId, By;
        public long? Ref, Edited;
        public string? Emoji;
        public bool On, Recalled;
        public QuoteEntry? Reply;
        public List<ReactionEntry>? Reactions;
        public List<int>? Ids;
        public ChatFile? File;
        public string? About, Avatar;

        private readonly ErrorCode Code => (ErrorCode)(Errno ?? 0);

        public readonly ServerMessage ToMessage() => (MsgId)(MsgId ?? 0) switch
        {
            Protocol.MsgId.Ack => new AckMessage(Cid, Code, ErrMsg, Seq, Ts, GroupId) { Users = Users },
            Protocol.MsgId.Profile => new ProfileMessage(Id ?? 0, About ?? "", Avatar ?? ""),
            Protocol.MsgId.Find => new FoundMessage(Code, ErrMsg, Users ?? []),
            Protocol.MsgId.Error => new ErrorMessage(Code, ErrMsg, Req),
            Protocol.MsgId.RegAck => new RegAckMessage(Code, ErrMsg, Id, Cid),
            Protocol.MsgId.Pong => new PongMessage(Cid),
            Protocol.MsgId.LoginAck => new LoginAckMessage(
                Code, ErrMsg, Cid, Id ?? 0, Name ?? "", Friends ?? [], Groups ?? [], [.. (Offline ?? []).OfType<ChatReceived>()], Convs ?? [], More, Token)
            {
                OfflineEntries = Offline ?? [],
            },
            Protocol.MsgId.OneChat or Protocol.MsgId.GroupChat => ToChat(),
            Protocol.MsgId.Typing => new TypingMessage(Id ?? 0, Name ?? "", Peer, GroupId),
            Protocol.MsgId.Presence => new PresenceMessage(Id ?? 0, Online),
            Protocol.MsgId.HistoryAck => new HistoryAckMessage(Code, ErrMsg, Cid, Peer, GroupId, Messages ?? [], More),
            Protocol.MsgId.ReadNotice => new ReadNoticeMessage(Id ?? 0, Peer, GroupId, Seq ?? 0),
            Protocol.MsgId.LeaveGroup or Protocol.MsgId.RemoveMember => new MemberGoneMessage((MsgId)MsgId!.Value, GroupId ?? 0, UserId ?? 0, By),
            Protocol.MsgId.AddGroup => new MemberJoinedMessage(GroupId ?? 0, ToUser()),
            Protocol.MsgId.Edit or Protocol.MsgId.Recall or Protocol.MsgId.React => new LogEventReceived(new EventPush(
                (MsgId)MsgId!.Value, GroupId is not null, Id ?? 0, Name ?? "", (GroupId ?? ToId) ?? 0, Seq ?? 0, Ref ?? 0,
                (MsgId == (int)Protocol.MsgId.React ? Emoji : Msg) ?? "", On, Ts ?? 0)),
            var other => new OtherMessage(other),
        };

        public readonly UserEntry ToUser() => new(Id ?? 0, Name ?? "", Online, Creator) { About = About, Avatar = Avatar };

        public readonly GroupEntry ToGroup() => new(Id ?? 0, GroupName ?? "", GroupDesc ?? "", Users ?? []);

        public readonly ConversationEntry ToConversation() => new(Peer, GroupId, Seq ?? 0, Read ?? 0, Unread ?? 0);

        /// <summary>A chat frame; the seed's offline entries are the frames its senders sent, without seq or ts.</summary>
        public readonly ChatReceived ToChat()
        {
            var isGroup = MsgId == (int)Protocol.MsgId.GroupChat;
            return new ChatReceived(new ChatPush(
                isGroup, Id ?? 0, Name ?? "", (isGroup ? GroupId : ToId) ?? 0, Msg ?? "", Time ?? "", Seq ?? 0, Ts ?? 0, File)
            {
                Reply = Reply,
                Edited = Edited,
                Recalled = Recalled,
                Reactions = Reactions,
            });
        }
    }
}
