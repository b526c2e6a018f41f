using System.Buffers;
using System.Text.Json;

namespace Chat.Protocol;

/// <summary>
/// Writes client → server frames: a typed <see cref="Request"/> as one UTF-8 JSON object and a <c>\n</c>, msgid first,
/// then cid (a number stays a number), then the request's fields. Text goes out as raw UTF-8, as the seed client
/// sends it. <see cref="RequestReader"/> reads back exactly what this writes.
/// </summary>
public static class RequestWriter
{
    /// <summary>Where the thread's writer points between frames, so that it keeps no caller's buffer alive.</summary>
    private static readonly ArrayBufferWriter<byte> Detached = new(1);

    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>The frame as a new array (for callers that queue frames, such as the console client).</summary>
    public static byte[] ToFrame(Request request)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        Write(request, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Appends the frame to <paramref name="output"/>; nothing is allocated but what the output grows by.</summary>
    public static void Write(Request request, IBufferWriter<byte> output)
    {
        var w = Begin(output, request.MsgId, request.Cid);
        switch (request)
        {
            case LoginRequest login:
                w.WriteNumber(Field.Id, login.Id);
                WriteOptional(w, Field.Password, login.Password);
                WriteOptional(w, Field.Token, login.Token);
                if (login.Version != 0) w.WriteNumber(Field.V, login.Version);
                if (login.Resume is { } resume) WriteResume(w, resume);
                break;
            case RegisterRequest reg:
                WriteOptional(w, Field.Name, reg.Name);
                WriteOptional(w, Field.Password, reg.Password);
                break;
            case OneChatRequest chat:
                WriteChatFields(w, Field.ToId, chat.ToId, chat.Msg, chat.Time);
                if (chat.Reply is { } reply) w.WriteNumber(Field.Reply, reply);
                WriteOptional(w, Field.File, chat.File);
                break;
            case GroupChatRequest chat:
                WriteChatFields(w, Field.GroupId, chat.GroupId, chat.Msg, chat.Time);
                if (chat.Reply is { } groupReply) w.WriteNumber(Field.Reply, groupReply);
                WriteOptional(w, Field.File, chat.File);
                break;
            case EditRequest edit:
                WireJson.WriteConversation(w, edit.Peer, edit.GroupId);
                w.WriteNumber(Field.Seq, edit.Seq);
                w.WriteString(Field.Msg, edit.Msg);
                break;
            case RecallRequest recall:
                WireJson.WriteConversation(w, recall.Peer, recall.GroupId);
                w.WriteNumber(Field.Seq, recall.Seq);
                break;
            case ReactRequest react:
                WireJson.WriteConversation(w, react.Peer, react.GroupId);
                w.WriteNumber(Field.Seq, react.Seq);
                w.WriteString(Field.Emoji, react.Emoji);
                if (!react.On) w.WriteBoolean(Field.On, false);
                break;
            case ProfileRequest profile:
                WriteOptional(w, Field.About, profile.About);
                WriteOptional(w, Field.Avatar, profile.Avatar);
                break;
            case FindRequest find:
                w.WriteString(Field.Q, find.Q);
                break;
            case BlockRequest block:
                w.WriteNumber(Field.UserId, block.UserId);
                if (!block.On) w.WriteBoolean(Field.On, false);
                break;
            case AddFriendRequest friend:
                w.WriteNumber(Field.FriendId, friend.FriendId);
                break;
            case CreateGroupRequest group:
                WriteOptional(w, Field.GroupName, group.GroupName);
                WriteOptional(w, Field.GroupDesc, group.GroupDesc);
                break;
            case JoinGroupRequest join:
                w.WriteNumber(Field.GroupId, join.GroupId);
                break;
            case HistoryRequest history:
                WireJson.WriteConversation(w, history.Peer, history.GroupId);
                if (history.Before is { } before) w.WriteNumber(Field.Before, before);
                if (history.Limit != HistoryRequest.DefaultLimit) w.WriteNumber(Field.Limit, history.Limit);
                break;
            case ReadRequest read:
                WireJson.WriteConversation(w, read.Peer, read.GroupId);
                w.WriteNumber(Field.Seq, read.Seq);
                break;
            case LeaveGroupRequest leave:
                w.WriteNumber(Field.GroupId, leave.GroupId);
                break;
            case RemoveMemberRequest remove:
                w.WriteNumber(Field.GroupId, remove.GroupId);
                w.WriteNumber(Field.UserId, remove.UserId);
                break;
            case RemoveFriendRequest friend:
                w.WriteNumber(Field.FriendId, friend.FriendId);
                break;
            case LogoutRequest { All: true }:
                w.WriteBoolean(Field.All, true);
                break;
            case LogoutRequest or PingRequest:
                break;
            case TypingRequest typing:
                if (typing.Peer is { } typingPeer) w.WriteNumber(Field.Peer, typingPeer);
                if (typing.GroupId is { } typingGroup) w.WriteNumber(Field.GroupId, typingGroup);
                break;
            default:
                throw new ArgumentException($"{request.GetType().Name} is not a frame a client sends", nameof(request));
        }

        End(w, output);
    }

    /// <summary>
    /// ONE_CHAT (<paramref name="group"/> false) or GROUP_CHAT from text already in UTF-8, with a string cid given as
    /// UTF-8 too: the load generator's hot path, which allocates nothing per message.
    /// </summary>
    public static void WriteChat(IBufferWriter<byte> output, bool group, int target, ReadOnlySpan<byte> msg, ReadOnlySpan<byte> cid)
    {
        var w = Begin(output, group ? MsgId.GroupChat : MsgId.OneChat, cid: null);
        w.WriteString(Field.Cid, cid);
        w.WriteNumber(group ? Field.GroupId : Field.ToId, target);
        w.WriteString(Field.Msg, msg);
        End(w, output);
    }

    private static Utf8JsonWriter Begin(IBufferWriter<byte> output, MsgId msgId, Cid? cid)
    {
        var w = t_writer ??= new Utf8JsonWriter(output, WireJson.WriterOptions);
        w.Reset(output);
        w.WriteStartObject();
        w.WriteNumber(Field.MsgId, (int)msgId);
        cid?.WriteTo(w);
        return w;
    }

    private static void End(Utf8JsonWriter w, IBufferWriter<byte> output)
    {
        w.WriteEndObject();
        w.Flush();
        w.Reset(Detached);
        output.Write("\n"u8);
    }

    private static void WriteChatFields(Utf8JsonWriter w, JsonEncodedText to, int target, string msg, string? time)
    {
        w.WriteNumber(to, target);
        w.WriteString(Field.Msg, msg);
        WriteOptional(w, Field.Time, time);
    }

    private static void WriteResume(Utf8JsonWriter w, IReadOnlyList<ResumePoint> resume)
    {
        w.WriteStartArray(Field.Resume);
        foreach (var point in resume)
        {
            WireJson.WriteConversationSeq(w, point.Peer, point.GroupId, point.Seq);
        }

        w.WriteEndArray();
    }

    private static void WriteOptional(Utf8JsonWriter w, JsonEncodedText name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }
}
