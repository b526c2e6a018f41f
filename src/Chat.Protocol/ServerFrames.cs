using System.Buffers;
using System.Text.Json;

namespace Chat.Protocol;

/// <summary>
/// Builds server → client frames: one UTF-8 JSON object and a <c>\n</c>, as one array that can be shared by every
/// recipient. Field names and shapes are the seed's.
/// </summary>
public static class ServerFrames
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>
    /// The frame answering request <paramref name="request"/> (with <paramref name="cid"/>) with <paramref name="reply"/>;
    /// null when there is nothing to send (a request without cid that simply took effect, as the seed expects).
    /// </summary>
    public static byte[]? Reply(MsgId request, Cid? cid, Reply reply) => (request, reply) switch
    {
        (_, AlreadySent) => null,
        (_, Pong) => Build(cid, static (w, cid) =>
        {
            w.WriteNumber(Field.MsgId, (int)MsgId.Pong);
            cid?.WriteTo(w);
        }),
        (MsgId.Login, Failed f) => Refused(MsgId.LoginAck, f, cid),
        (MsgId.Reg, Failed f) => RegAck(f.Code, null, f.Message, cid),
        (MsgId.History, Failed f) => Refused(MsgId.HistoryAck, f, cid),
        (_, HistoryPage page) => History(page, cid),
        (_, Registered r) => RegAck(ErrorCode.None, r.Id, null, cid),
        (_, Failed f) => cid is { } c ? Ack(c, f.Code, f.Message) : Error(f.Code, f.Message, (int)request),
        (_, MessageStored m) when cid is { } c => Build((c, m), static (w, s) =>
        {
            WriteAckHead(w, s.c, ErrorCode.None);
            w.WriteNumber(Field.Seq, s.m.Seq);
            w.WriteNumber(Field.Ts, s.m.Ts);
        }),
        (_, GroupCreated g) when cid is { } c => Build((c, g), static (w, s) =>
        {
            WriteAckHead(w, s.c, ErrorCode.None);
            w.WriteNumber(Field.GroupId, s.g.GroupId);
        }),
        (_, FriendAdded f) when cid is { } c => Build((c, f), static (w, s) =>
        {
            WriteAckHead(w, s.c, ErrorCode.None);
            w.WritePropertyName(Field.Friend);
            WriteUser(w, s.f.Friend);
        }),
        (_, UsersFound u) => Build((c: cid, u), static (w, s) =>
        {
            if (s.c is { } c)
            {
                WriteAckHead(w, c, ErrorCode.None);
            }
            else
            {
                w.WriteNumber(Field.MsgId, (int)MsgId.Find);
                w.WriteNumber(Field.Errno, 0);
            }

            w.WriteStartArray(Field.Users);
            foreach (var user in s.u.Users)
            {
                w.WriteStartObject();
                w.WriteNumber(Field.Id, user.Id);
                w.WriteString(Field.Name, user.Name);
                w.WriteString(Field.About, user.About);
                w.WriteString(Field.Avatar, user.Avatar);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }),
        (_, GroupJoined g) when cid is { } c => Build((c, g), static (w, s) =>
        {
            WriteAckHead(w, s.c, ErrorCode.None);
            w.WritePropertyName(Field.Group);
            WriteGroup(w, s.g.Group, objects: true);
        }),
        _ => cid is { } c ? Ack(c, ErrorCode.None, null) : null,
    };

    /// <summary>A frame that could not be read as a request: ACK with the error when its cid was readable, ERROR otherwise.</summary>
    public static byte[] Reply(RequestError error) =>
        error.Cid is { } cid ? Ack(cid, error.Code, error.Message) : Error(error.Code, error.Message, error.MsgId);

    /// <summary>ERROR (12): a failure that cannot be tied to a cid (<paramref name="request"/>: the msgid, when known).</summary>
    public static byte[] Error(ErrorCode code, string message, int? request) => Build((code, message, request), static (w, s) =>
    {
        w.WriteNumber(Field.MsgId, (int)MsgId.Error);
        w.WriteNumber(Field.Errno, (int)s.code);
        w.WriteString(Field.ErrMsg, s.message);
        if (s.request is { } req) w.WriteNumber(Field.Req, req);
        else w.WriteNull(Field.Req);
    });

    /// <summary>ACK (11): the request with this cid took effect (errno 0) or failed.</summary>
    public static byte[] Ack(Cid cid, ErrorCode code, string? message) => Build((cid, code, message), static (w, s) =>
    {
        WriteAckHead(w, s.cid, s.code);
        if (s.message is not null) w.WriteString(Field.ErrMsg, s.message);
    });

    /// <summary>
    /// LOGIN_ACK on success. With <paramref name="objects"/> false (the seed's form) every list entry is a string
    /// holding a JSON document; with true (<c>"v":2</c>) it is the object itself, and <c>convs</c> and <c>more</c> are added.
    /// </summary>
    public static byte[] LoginOk(LoginAck ack, bool objects, Cid? cid) => Build((ack, objects, cid), static (w, s) =>
    {
        var (ack, objects, cid) = s;
        w.WriteNumber(Field.MsgId, (int)MsgId.LoginAck);
        w.WriteNumber(Field.Errno, 0);
        w.WriteNumber(Field.Id, ack.Id);
        w.WriteString(Field.Name, ack.Name);
        cid?.WriteTo(w);
        if (ack.Friends.Count > 0)
        {
            w.WriteStartArray(Field.Friends);
            foreach (var friend in ack.Friends)
            {
                WriteEntry(w, objects, friend, static (n, f) => WriteUser(n, f));
            }

            w.WriteEndArray();
        }

        if (ack.Groups.Count > 0)
        {
            w.WriteStartArray(Field.Groups);
            foreach (var group in ack.Groups)
            {
                WriteEntry(w, objects, (group, objects), static (n, g) => WriteGroup(n, g.group, g.objects));
            }

            w.WriteEndArray();
        }

        if (ack.Offline.Count > 0)
        {
            w.WriteStartArray(Field.OfflineMsg);
            foreach (var frame in ack.Offline)
            {
                var json = frame.Span[..^1];
                if (objects) w.WriteRawValue(json, skipInputValidation: true);
                else w.WriteStringValue(json);
            }

            w.WriteEndArray();
        }

        if (objects)
        {
            WriteConversations(w, ack);
            if (ack.Token is { } token)
            {
                w.WriteString(Field.Token, token);
            }

            if (ack.Blocked.Count > 0)
            {
                w.WriteStartArray(Field.Blocked);
                foreach (var blocked in ack.Blocked)
                {
                    w.WriteNumberValue(blocked);
                }

                w.WriteEndArray();
            }
        }
    });

    /// <summary>
    /// The msgid a frame built here starts with (every one begins <c>{"msgid":N</c>), read without parsing the frame;
    /// null for a frame that does not start so.
    /// </summary>
    public static int? LeadingMsgId(ReadOnlySpan<byte> frame)
    {
        ReadOnlySpan<byte> name = Field.MsgId.EncodedUtf8Bytes;
        if (frame.Length < name.Length + 4 || !frame.StartsWith("{\""u8) || !frame[2..].StartsWith(name) || !frame[(name.Length + 2)..].StartsWith("\":"u8))
        {
            return null;
        }

        var value = 0;
        var digits = 0;
        foreach (var b in frame[(name.Length + 4)..])
        {
            if (b is < (byte)'0' or > (byte)'9' || ++digits > 4)
            {
                break;
            }

            value = (value * 10) + (b - '0');
        }

        return digits is > 0 and <= 4 ? value : null;
    }

    /// <summary>A chat frame as its recipients get it: the sender's fields (from the session) plus seq and ts.</summary>
    public static byte[] Chat(in ChatPush push) => Build(push, static (w, m) =>
    {
        w.WriteNumber(Field.MsgId, (int)(m.IsGroup ? MsgId.GroupChat : MsgId.OneChat));
        w.WriteNumber(Field.Id, m.SenderId);
        w.WriteString(Field.Name, m.SenderName);
        w.WriteNumber(m.IsGroup ? Field.GroupId : Field.ToId, m.TargetId);
        w.WriteString(Field.Msg, m.Msg);
        w.WriteString(Field.Time, m.Time);
        w.WriteNumber(Field.Seq, m.Seq);
        w.WriteNumber(Field.Ts, m.Ts);
        if (m.File is { } file)
        {
            w.WriteStartObject(Field.File);
            w.WriteString(Field.Id, file.Id);
            w.WriteString(Field.Name, file.Name);
            w.WriteNumber(Field.Size, file.Size);
            w.WriteString(Field.Type, file.Type);
            w.WriteBoolean(Field.Thumb, file.Thumb);
            w.WriteEndObject();
        }

        WriteLogState(w, m);
    });

    /// <summary>
    /// EDIT (24) <c>{msgid, id, name, toid|groupid, seq, ref, msg, ts}</c>, RECALL (25) <c>{msgid, id, toid|groupid, seq,
    /// ref, ts}</c> or REACT (26) <c>{msgid, id, name, toid|groupid, seq, ref, emoji, on, ts}</c>: an event as every party gets it.
    /// </summary>
    public static byte[] Event(in EventPush push) => Build(push, static (w, e) =>
    {
        w.WriteNumber(Field.MsgId, (int)e.Kind);
        w.WriteNumber(Field.Id, e.SenderId);
        if (e.Kind != MsgId.Recall) w.WriteString(Field.Name, e.SenderName);
        w.WriteNumber(e.IsGroup ? Field.GroupId : Field.ToId, e.TargetId);
        w.WriteNumber(Field.Seq, e.Seq);
        w.WriteNumber(Field.Ref, e.Ref);
        if (e.Kind == MsgId.Edit) w.WriteString(Field.Msg, e.Msg);
        if (e.Kind == MsgId.React)
        {
            w.WriteString(Field.Emoji, e.Msg);
            w.WriteBoolean(Field.On, e.On);
        }

        w.WriteNumber(Field.Ts, e.Ts);
    });

    /// <summary>v2 fields of a chat frame: the quote it answers, and the message's state in the log.</summary>
    private static void WriteLogState(Utf8JsonWriter w, in ChatPush m)
    {
        if (m.Reply is { } quote)
        {
            w.WriteStartObject(Field.Reply);
            w.WriteNumber(Field.Seq, quote.Seq);
            w.WriteNumber(Field.Id, quote.Id);
            w.WriteString(Field.Name, quote.Name);
            if (quote.Recalled) w.WriteBoolean(Field.Recalled, true);
            else w.WriteString(Field.Msg, quote.Msg);
            w.WriteEndObject();
        }

        if (m.Recalled)
        {
            w.WriteBoolean(Field.Recalled, true);
            return;
        }

        if (m.Edited is { } edited) w.WriteNumber(Field.Edited, edited);
        if (m.Reactions is { Count: > 0 } reactions)
        {
            w.WriteStartArray(Field.Reactions);
            foreach (var r in reactions)
            {
                w.WriteStartObject();
                w.WriteString(Field.Emoji, r.Emoji);
                w.WriteStartArray(Field.Ids);
                foreach (var id in r.Ids) w.WriteNumberValue(id);
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }
    }

    /// <summary>
    /// A chat frame as a seed session gets it: a file message's file becomes text after the caption
    /// (<c>caption [file: name, size]</c>); any other frame as it is.
    /// </summary>
    public static ReadOnlyMemory<byte> ForSeed(ReadOnlyMemory<byte> frame)
    {
        if (frame.Span.IndexOf(",\"file\":{"u8) < 0 || ServerFrameReader.Read(frame.Span[..^1]) is not ChatReceived { Push: { File: { } file } push })
        {
            return frame;
        }

        return Chat(push with { Msg = file.SeedText(push.Msg), File = null });
    }

    /// <summary>TYPING (19) relayed: to the peer (<c>peer</c> = the typist, so the recipient knows the conversation) or to a group's members.</summary>
    public static byte[] Typing(int senderId, string senderName, bool isGroup, int targetId) => Build((senderId, senderName, isGroup, targetId), static (w, s) =>
    {
        w.WriteNumber(Field.MsgId, (int)MsgId.Typing);
        w.WriteNumber(Field.Id, s.senderId);
        w.WriteString(Field.Name, s.senderName);
        w.WriteNumber(s.isGroup ? Field.GroupId : Field.Peer, s.isGroup ? s.targetId : s.senderId);
    });

    /// <summary>PROFILE (27) pushed: user <paramref name="userId"/> now says this about themselves (avatar "" for none).</summary>
    public static byte[] Profile(int userId, string about, string avatar) => Build((userId, about, avatar), static (w, s) =>
    {
        w.WriteNumber(Field.MsgId, (int)MsgId.Profile);
        w.WriteNumber(Field.Id, s.userId);
        w.WriteString(Field.About, s.about);
        w.WriteString(Field.Avatar, s.avatar);
    });

    /// <summary>PRESENCE (20): user <paramref name="userId"/> is now online or offline, cluster-wide.</summary>
    public static byte[] Presence(int userId, bool online) => Build((userId, online), static (w, s) =>
    {
        w.WriteNumber(Field.MsgId, (int)MsgId.Presence);
        w.WriteNumber(Field.Id, s.userId);
        w.WriteString(Field.State, s.online ? Field.Online : Field.Offline);
    });

    /// <summary>HISTORY_ACK (16): a page of messages as objects, oldest first, and whether older ones exist.</summary>
    public static byte[] History(HistoryPage page, Cid? cid) => Build((page, cid), static (w, s) =>
    {
        w.WriteNumber(Field.MsgId, (int)MsgId.HistoryAck);
        w.WriteNumber(Field.Errno, 0);
        s.cid?.WriteTo(w);
        WireJson.WriteConversation(w, s.page.Peer, s.page.GroupId);
        w.WriteStartArray(Field.Messages);
        foreach (var frame in s.page.Messages)
        {
            w.WriteRawValue(frame.Span[..^1], skipInputValidation: true);
        }

        w.WriteEndArray();
        w.WriteBoolean(Field.More, s.page.More);
        if (s.page.Start is { } start)
        {
            w.WriteNumber(Field.Start, start);
        }
    });

    /// <summary>READ_NOTICE (18): <paramref name="readerId"/> has read the conversation named by peer or groupid up to <paramref name="seq"/>.</summary>
    public static byte[] ReadNotice(int readerId, int? peer, int? groupId, long seq) => Build((readerId, peer, groupId, seq), static (w, s) =>
    {
        w.WriteNumber(Field.MsgId, (int)MsgId.ReadNotice);
        w.WriteNumber(Field.Id, s.readerId);
        WireJson.WriteConversation(w, s.peer, s.groupId);
        w.WriteNumber(Field.Seq, s.seq);
    });

    /// <summary>
    /// <paramref name="userId"/> is out of group <paramref name="groupId"/>: removed by <paramref name="by"/> (REMOVE_MEMBER, 22),
    /// or left it (LEAVE_GROUP, 21; <paramref name="by"/> null), passing the creator's role to <paramref name="creator"/> when
    /// it held it. Pushed to the user's sessions and to the other members'.
    /// </summary>
    public static byte[] MemberGone(int groupId, int userId, int? by, int? creator = null) => Build((groupId, userId, by, creator), static (w, s) =>
    {
        w.WriteNumber(Field.MsgId, (int)(s.by is null ? MsgId.LeaveGroup : MsgId.RemoveMember));
        w.WriteNumber(Field.GroupId, s.groupId);
        w.WriteNumber(Field.UserId, s.userId);
        if (s.by is { } by) w.WriteNumber(Field.By, by);
        if (s.creator is { } heir) w.WriteNumber(Field.Creator, heir);
    });

    /// <summary>
    /// ADD_GROUP (9) pushed to the group's other members: <paramref name="member"/> joined group <paramref name="groupId"/>
    /// (<c>{"msgid":9,"groupid","id","name","state","role"}</c>, the member as LOGIN_ACK lists members).
    /// </summary>
    public static byte[] MemberJoined(int groupId, UserEntry member) => Build((groupId, member), static (w, s) =>
    {
        w.WriteNumber(Field.MsgId, (int)MsgId.AddGroup);
        w.WriteNumber(Field.GroupId, s.groupId);
        WriteUserFields(w, s.member);
    });

    /// <summary>A failure answered by the request's own reply type (LOGIN_ACK, HISTORY_ACK): errno, errmsg and the cid.</summary>
    private static byte[] Refused(MsgId answer, Failed f, Cid? cid) => Build((answer, f, cid), static (w, s) =>
    {
        w.WriteNumber(Field.MsgId, (int)s.answer);
        w.WriteNumber(Field.Errno, (int)s.f.Code);
        w.WriteString(Field.ErrMsg, s.f.Message);
        s.cid?.WriteTo(w);
    });

    private static byte[] RegAck(ErrorCode code, int? id, string? message, Cid? cid) => Build((code, id, message, cid), static (w, s) =>
    {
        w.WriteNumber(Field.MsgId, (int)MsgId.RegAck);
        w.WriteNumber(Field.Errno, (int)s.code);
        if (s.id is { } value) w.WriteNumber(Field.Id, value);
        if (s.message is not null) w.WriteString(Field.ErrMsg, s.message);
        s.cid?.WriteTo(w);
    });

    private static void WriteAckHead(Utf8JsonWriter w, Cid cid, ErrorCode code)
    {
        w.WriteNumber(Field.MsgId, (int)MsgId.Ack);
        cid.WriteTo(w);
        w.WriteNumber(Field.Errno, (int)code);
    }

    /// <summary>v2: each conversation's newest seq, so a client knows what it is missing, the user's read mark and unread count; and whether offlinemsg was cut short.</summary>
    private static void WriteConversations(Utf8JsonWriter w, LoginAck ack)
    {
        if (ack.More) w.WriteBoolean(Field.More, true);
        if (ack.Conversations.Count == 0) return;
        w.WriteStartArray(Field.Convs);
        foreach (var c in ack.Conversations)
        {
            w.WriteStartObject();
            WireJson.WriteConversation(w, c.Peer, c.GroupId);
            w.WriteNumber(Field.Seq, c.Seq);
            w.WriteNumber(Field.Read, c.Read);
            w.WriteNumber(Field.Unread, c.Unread);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteUser(Utf8JsonWriter w, UserEntry user)
    {
        w.WriteStartObject();
        WriteUserFields(w, user);
        w.WriteEndObject();
    }

    private static void WriteUserFields(Utf8JsonWriter w, UserEntry user)
    {
        w.WriteNumber(Field.Id, user.Id);
        w.WriteString(Field.Name, user.Name);
        w.WriteString(Field.State, user.Online ? Field.Online : Field.Offline);
        if (user.Creator is { } creator) w.WriteString(Field.Role, creator ? Field.Creator : Field.Normal);
        if (user.About is { } about) w.WriteString(Field.About, about);
        if (user.Avatar is { } avatar) w.WriteString(Field.Avatar, avatar);
    }

    private static void WriteGroup(Utf8JsonWriter w, GroupEntry group, bool objects)
    {
        w.WriteStartObject();
        w.WriteNumber(Field.Id, group.Id);
        w.WriteString(Field.GroupName, group.Name);
        w.WriteString(Field.GroupDesc, group.Description);
        w.WriteStartArray(Field.Users);
        foreach (var member in group.Users)
        {
            // The seed nests one level deeper as strings.
            WriteEntry(w, objects, member, static (n, m) => WriteUser(n, m));
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteEntry<T>(Utf8JsonWriter w, bool objects, T entry, Action<Utf8JsonWriter, T> write)
    {
        if (objects)
        {
            write(w, entry);
            return;
        }

        // The seed's form: the entry as a JSON document inside a string, built on a writer of its own (login only).
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var nested = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            write(nested, entry);
        }

        w.WriteStringValue(buffer.WrittenSpan);
    }

    /// <summary>The frame <paramref name="body"/> writes; with a static lambda, nothing is allocated but the frame.</summary>
    private static byte[] Build<TState>(TState state, Action<Utf8JsonWriter, TState> body)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WireJson.WriterOptions);
        writer.Reset(buffer);
        writer.WriteStartObject();
        body(writer, state);
        writer.WriteEndObject();
        writer.Flush();
        var frame = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(frame);
        frame[^1] = (byte)'\n';
        if (buffer.Capacity > 1 << 20)
        {
            t_buffer = null; // do not keep a huge LOGIN_ACK's buffer alive on this thread
            t_writer = null;
        }

        return frame;
    }
}
