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
    /// <summary>Reads one frame (without its newline); no string is made but errmsg, and nested values are skipped.</summary>
    public static ServerFrame Parse(ReadOnlySpan<byte> json)
    {
        var reader = ServerFields.Open(json);
        int msgid = 0, errno = 0, id = 0, groupId = 0;
        long cid = -1, messageId = -1;
        string? errmsg = null;
        while (ServerFields.Next(ref reader, out var field))
        {
            switch (field)
            {
                case ServerField.MsgId: msgid = reader.GetInt32(); break;
                case ServerField.Errno: errno = reader.GetInt32(); break;
                case ServerField.Id: id = reader.TokenType == JsonTokenType.Number ? reader.GetInt32() : 0; break;
                case ServerField.GroupId: groupId = reader.GetInt32(); break;
                case ServerField.Cid: cid = LeadingNumber(reader.ValueSpan, whole: true); break;
                case ServerField.Msg when reader.TokenType == JsonTokenType.String: messageId = LeadingNumber(reader.ValueSpan, whole: false); break;
                case ServerField.ErrMsg: errmsg = reader.GetString(); break;
                default: reader.Skip(); break;
            }
        }

        return new ServerFrame((MsgId)msgid, errno, cid, messageId, id, groupId, errmsg);
    }

    private static long LeadingNumber(ReadOnlySpan<byte> text, bool whole) =>
        Utf8Parser.TryParse(text, out long value, out var consumed) && value >= 0 && (!whole || consumed == text.Length) ? value : -1;
}
