using System.Buffers.Text;
using System.Text.Json;
using Chat.Protocol;

namespace Chat.Bench;

/// <summary>
/// The fields of a server frame the load generator needs. <see cref="Cid"/> and <see cref="MessageId"/> are the
/// bench's own numbers (the cid it sent, the number that starts the message text), -1 when absent or not a number.
/// </summary>
public readonly record struct ServerFrame(MsgId MsgId, int Errno, long Cid, long MessageId, int Id, int GroupId, string? ErrMsg)
{
    /// <summary>Reads one frame (without its newline); nested values other bench frames do not need are skipped.</summary>
    public static ServerFrame Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a server frame is not a JSON object");
        }

        int msgid = 0, errno = 0, id = 0, groupId = 0;
        long cid = -1, messageId = -1;
        string? errmsg = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("msgid"u8)) msgid = reader.GetInt32();
            else if (name.SequenceEqual("errno"u8)) errno = reader.GetInt32();
            else if (name.SequenceEqual("id"u8)) id = reader.TokenType == JsonTokenType.Number ? reader.GetInt32() : 0;
            else if (name.SequenceEqual("groupid"u8)) groupId = reader.GetInt32();
            else if (name.SequenceEqual("cid"u8)) cid = LeadingNumber(reader.ValueSpan, whole: true);
            else if (name.SequenceEqual("msg"u8) && reader.TokenType == JsonTokenType.String) messageId = LeadingNumber(reader.ValueSpan, whole: false);
            else if (name.SequenceEqual("errmsg"u8)) errmsg = reader.GetString();
            else reader.Skip();
        }

        return new ServerFrame((MsgId)msgid, errno, cid, messageId, id, groupId, errmsg);
    }

    private static long LeadingNumber(ReadOnlySpan<byte> text, bool whole) =>
        Utf8Parser.TryParse(text, out long value, out var consumed) && value >= 0 && (!whole || consumed == text.Length) ? value : -1;
}
