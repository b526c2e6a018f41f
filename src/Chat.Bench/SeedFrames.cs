using System.Buffers;
using System.Text.Json;
using Chat.Protocol;

namespace Chat.Bench;

/// <summary>
/// The seed's own wire habits, as its console client has them: every frame ends with <c>\0</c>, a chat frame carries
/// the sender's id and name, the recipient, the text and a time, and there is no cid (so no ACK). The seed server
/// ends its frames with nothing at all, so a frame received is cut where its JSON object closes (Chat's <c>\n</c>
/// between objects is skipped the same way).
/// </summary>
public static class SeedFrames
{
    /// <summary>The seed writes text as raw UTF-8, as Chat's own frames do.</summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    /// <summary>Appends ONE_CHAT as the seed client sends it, through <paramref name="w"/> (reset onto the output).</summary>
    public static void WriteChat(Utf8JsonWriter w, IBufferWriter<byte> output, int from, string fromName, int to, ReadOnlySpan<byte> msg, string time)
    {
        w.Reset(output);
        w.WriteStartObject();
        w.WriteNumber(Field.MsgId, (int)MsgId.OneChat);
        w.WriteNumber(Field.Id, from);
        w.WriteString("from"u8, fromName);
        w.WriteNumber(Field.ToId, to);
        w.WriteString(Field.Msg, msg);
        w.WriteString(Field.Time, time);
        w.WriteEndObject();
        w.Flush();
        output.Write("\0"u8);
    }

    /// <summary>The time text the seed client puts in a chat frame.</summary>
    public static string Time(DateTime now) => now.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Finds the first whole JSON object in <paramref name="pending"/>, after any whitespace or NULs: its offset and
    /// length, and how many bytes it and what came before it take. False when no whole object is there yet.
    /// </summary>
    public static bool TryCut(ReadOnlySpan<byte> pending, out int start, out int length)
    {
        start = 0;
        while (start < pending.Length && pending[start] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or 0)
        {
            start++;
        }

        length = 0;
        if (start == pending.Length)
        {
            return false;
        }

        var reader = new Utf8JsonReader(pending[start..], isFinalBlock: false, state: default);
        if (!reader.Read() || !reader.TrySkip())
        {
            return false;
        }

        length = (int)reader.BytesConsumed;
        return true;
    }
}
