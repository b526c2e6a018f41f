using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Chat.Domain;
using Chat.Domain.Protocol;

namespace Chat.Server.Protocol;

/// <summary>
/// Builds server → client frames: one UTF-8 JSON object and a <c>\n</c>, as one array that can be shared by every
/// recipient. Field names and shapes are the seed's.
/// </summary>
public static class Frames
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public static byte[] Error(ErrorCode code, string message, int? request) => Build(w =>
    {
        w.WriteNumber("msgid"u8, (int)MsgId.Error);
        w.WriteNumber("errno"u8, (int)code);
        w.WriteString("errmsg"u8, message);
        if (request is { } req) w.WriteNumber("req"u8, req);
        else w.WriteNull("req"u8);
    });

    /// <summary>ACK (11): the request with this cid took effect (errno 0) or failed.</summary>
    public static byte[] Ack(string cid, ErrorCode code, string? message, Action<Utf8JsonWriter>? result = null) => Build(w =>
    {
        w.WriteNumber("msgid"u8, (int)MsgId.Ack);
        w.WriteString("cid"u8, cid);
        w.WriteNumber("errno"u8, (int)code);
        if (message is not null) w.WriteString("errmsg"u8, message);
        result?.Invoke(w);
    });

    public static byte[] Pong(string? cid) => Build(w =>
    {
        w.WriteNumber("msgid"u8, (int)MsgId.Pong);
        if (cid is not null) w.WriteString("cid"u8, cid);
    });

    public static byte[] RegAck(ErrorCode code, int? id, string? message, string? cid) => Build(w =>
    {
        w.WriteNumber("msgid"u8, (int)MsgId.RegAck);
        w.WriteNumber("errno"u8, (int)code);
        if (id is { } value) w.WriteNumber("id"u8, value);
        if (message is not null) w.WriteString("errmsg"u8, message);
        if (cid is not null) w.WriteString("cid"u8, cid);
    });

    public static byte[] LoginFailed(ErrorCode code, string message, string? cid) => Build(w =>
    {
        w.WriteNumber("msgid"u8, (int)MsgId.LoginAck);
        w.WriteNumber("errno"u8, (int)code);
        w.WriteString("errmsg"u8, message);
        if (cid is not null) w.WriteString("cid"u8, cid);
    });

    /// <summary>
    /// LOGIN_ACK on success. With <paramref name="objects"/> false (the seed's form) every list entry is a string
    /// holding a JSON document; with true (<c>"v":2</c>) it is the object itself.
    /// </summary>
    public static byte[] LoginOk(LoginSnapshot snapshot, IReadOnlyList<byte[]> offline, bool objects, string? cid) => Build(w =>
    {
        w.WriteNumber("msgid"u8, (int)MsgId.LoginAck);
        w.WriteNumber("errno"u8, 0);
        w.WriteNumber("id"u8, snapshot.Id);
        w.WriteString("name"u8, snapshot.Name);
        if (cid is not null) w.WriteString("cid"u8, cid);
        if (snapshot.Friends.Count > 0)
        {
            w.WriteStartArray("friends"u8);
            foreach (var friend in snapshot.Friends)
            {
                WriteEntry(w, objects, n => WriteUser(n, friend.Id, friend.Name, snapshot.Online.Contains(friend.Id), null));
            }

            w.WriteEndArray();
        }

        if (snapshot.Groups.Count > 0)
        {
            w.WriteStartArray("groups"u8);
            foreach (var group in snapshot.Groups)
            {
                WriteEntry(w, objects, n => WriteGroup(n, group, snapshot.Online, objects));
            }

            w.WriteEndArray();
        }

        if (offline.Count > 0)
        {
            w.WriteStartArray("offlinemsg"u8);
            foreach (var frame in offline)
            {
                var json = frame.AsSpan(0, frame.Length - 1);
                if (objects) w.WriteRawValue(json, skipInputValidation: true);
                else w.WriteStringValue(json);
            }

            w.WriteEndArray();
        }

        if (objects)
        {
            WriteConversations(w, snapshot);
        }
    });

    /// <summary>v2: each conversation's newest seq, so a client knows what it is missing; and whether offlinemsg was cut short.</summary>
    private static void WriteConversations(Utf8JsonWriter w, LoginSnapshot snapshot)
    {
        if (snapshot.OfflineTruncated) w.WriteBoolean("more"u8, true);
        if (snapshot.Conversations.Count == 0) return;
        w.WriteStartArray("convs"u8);
        foreach (var c in snapshot.Conversations)
        {
            w.WriteStartObject();
            if (ConversationId.IsGroup(c.ConversationId)) w.WriteNumber("groupid"u8, c.ConversationId);
            else w.WriteNumber("peer"u8, ConversationId.Peer(c.ConversationId, snapshot.Id));
            w.WriteNumber("seq"u8, c.LastSeq);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>ACK (11) for a stored chat message: its seq and ts.</summary>
    public static byte[] SentAck(string cid, StoredMessage stored) => Build((cid, stored), static (w, s) =>
    {
        w.WriteNumber("msgid"u8, (int)MsgId.Ack);
        w.WriteString("cid"u8, s.cid);
        w.WriteNumber("errno"u8, 0);
        w.WriteNumber("seq"u8, s.stored.Seq);
        w.WriteNumber("ts"u8, s.stored.Message.Ts);
    });

    /// <summary>A chat frame as its recipients get it: the sender's fields (from the session) plus seq and ts.</summary>
    public static byte[] Chat(StoredMessage stored) => Build(stored, static (w, stored) =>
    {
        var m = stored.Message;
        w.WriteNumber("msgid"u8, (int)(m.IsGroup ? MsgId.GroupChat : MsgId.OneChat));
        w.WriteNumber("id"u8, m.SenderId);
        w.WriteString("name"u8, m.SenderName);
        w.WriteNumber(m.IsGroup ? "groupid"u8 : "toid"u8, m.TargetId);
        w.WriteString("msg"u8, m.Body);
        w.WriteString("time"u8, m.ClientTime);
        w.WriteNumber("seq"u8, stored.Seq);
        w.WriteNumber("ts"u8, m.Ts);
    });

    private static void WriteUser(Utf8JsonWriter w, int id, string name, bool online, GroupRole? role)
    {
        w.WriteStartObject();
        w.WriteNumber("id"u8, id);
        w.WriteString("name"u8, name);
        w.WriteString("state"u8, online ? "online"u8 : "offline"u8);
        if (role is { } r) w.WriteString("role"u8, r == GroupRole.Creator ? "creator"u8 : "normal"u8);
        w.WriteEndObject();
    }

    private static void WriteGroup(Utf8JsonWriter w, GroupInfo group, IReadOnlySet<int> online, bool objects)
    {
        w.WriteStartObject();
        w.WriteNumber("id"u8, group.Id);
        w.WriteString("groupname"u8, group.Name);
        w.WriteString("groupdesc"u8, group.Description);
        w.WriteStartArray("users"u8);
        foreach (var member in group.Members)
        {
            if (objects)
            {
                WriteUser(w, member.Id, member.Name, online.Contains(member.Id), member.Role);
            }
            else
            {
                // The seed nests one level deeper as strings: build the member on its own writer.
                w.WriteStringValue(Nested(n => WriteUser(n, member.Id, member.Name, online.Contains(member.Id), member.Role)));
            }
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteEntry(Utf8JsonWriter w, bool objects, Action<Utf8JsonWriter> entry)
    {
        if (objects) entry(w);
        else w.WriteStringValue(Nested(entry));
    }

    /// <summary>Writes a JSON document on a second writer and returns its text (for the seed's string-in-string lists).</summary>
    private static string Nested(Action<Utf8JsonWriter> write)
    {
        // Login only, and re-entered for a group's members: a fresh buffer each time.
        var buffer = new ArrayBufferWriter<byte>(256);
        using var writer = new Utf8JsonWriter(buffer, WriterOptions);
        write(writer);
        writer.Flush();
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static byte[] Build(Action<Utf8JsonWriter> body) => Build(body, static (w, b) => b(w));

    /// <summary>The frame <paramref name="body"/> writes; with a static lambda, nothing is allocated but the frame.</summary>
    private static byte[] Build<TState>(TState state, Action<Utf8JsonWriter, TState> body)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
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

/// <summary>What LOGIN_ACK reports besides offline messages.</summary>
public sealed record LoginSnapshot(int Id, string Name, IReadOnlyList<FriendInfo> Friends, IReadOnlyList<GroupInfo> Groups, IReadOnlySet<int> Online)
{
    public IReadOnlyList<ConversationState> Conversations { get; init; } = [];

    /// <summary>More messages were waiting than one LOGIN_ACK carries.</summary>
    public bool OfflineTruncated { get; init; }
}
