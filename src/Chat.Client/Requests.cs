using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Chat.Protocol;

namespace Chat.Client;

/// <summary>Builds client → server frames: one JSON object and a <c>\n</c>. Every request carries a cid.</summary>
public static class Requests
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Register(string cid, string name, string password) => Build(MsgId.Reg, cid, w =>
    {
        w.WriteString("name"u8, name);
        w.WriteString("password"u8, password);
    });

    /// <summary>LOGIN with <c>"v":2</c>, and with <c>resume</c> when the client has seen messages before.</summary>
    public static byte[] Login(string cid, int id, string password, IReadOnlyCollection<ResumePoint> resume) => Build(MsgId.Login, cid, w =>
    {
        w.WriteNumber("id"u8, id);
        w.WriteString("password"u8, password);
        w.WriteNumber("v"u8, 2);
        if (resume.Count == 0)
        {
            return;
        }

        w.WriteStartArray("resume"u8);
        foreach (var point in resume)
        {
            w.WriteStartObject();
            w.WriteNumber(point.Conversation.IsGroup ? "groupid"u8 : "peer"u8, point.Conversation.Id);
            w.WriteNumber("seq"u8, point.Seq);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    public static byte[] LoginOut(string cid) => Build(MsgId.LoginOut, cid, _ => { });

    public static byte[] OneChat(string cid, int toId, string message, string time) => Build(MsgId.OneChat, cid, w =>
    {
        w.WriteNumber("toid"u8, toId);
        w.WriteString("msg"u8, message);
        w.WriteString("time"u8, time);
    });

    public static byte[] GroupChat(string cid, int groupId, string message, string time) => Build(MsgId.GroupChat, cid, w =>
    {
        w.WriteNumber("groupid"u8, groupId);
        w.WriteString("msg"u8, message);
        w.WriteString("time"u8, time);
    });

    public static byte[] AddFriend(string cid, int friendId) => Build(MsgId.AddFriend, cid, w => w.WriteNumber("friendid"u8, friendId));

    public static byte[] CreateGroup(string cid, string name, string description) => Build(MsgId.CreateGroup, cid, w =>
    {
        w.WriteString("groupname"u8, name);
        w.WriteString("groupdesc"u8, description);
    });

    public static byte[] AddGroup(string cid, int groupId) => Build(MsgId.AddGroup, cid, w => w.WriteNumber("groupid"u8, groupId));

    private static byte[] Build(MsgId msgId, string cid, Action<Utf8JsonWriter> fields)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber("msgid"u8, (int)msgId);
            writer.WriteString("cid"u8, cid);
            fields(writer);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
