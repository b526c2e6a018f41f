using System.Text.Encodings.Web;
using System.Text.Json;

namespace Chat.Protocol;

/// <summary>How frames are written in both directions: raw UTF-8 text (as the seed's nlohmann::json sends it), no checks
/// the typed writers make redundant.</summary>
internal static class WireJson
{
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    /// <summary>A conversation, named by <c>groupid</c> or else <c>peer</c>, and a seq in it: an entry of LOGIN's
    /// <c>resume</c> and of LOGIN_ACK's <c>convs</c>.</summary>
    public static void WriteConversationSeq(Utf8JsonWriter w, int? peer, int? groupId, long seq)
    {
        w.WriteStartObject();
        WriteConversation(w, peer, groupId);
        w.WriteNumber(Field.Seq, seq);
        w.WriteEndObject();
    }

    /// <summary>A conversation's name: <c>groupid</c>, or else <c>peer</c>.</summary>
    public static void WriteConversation(Utf8JsonWriter w, int? peer, int? groupId)
    {
        if (groupId is { } group) w.WriteNumber(Field.GroupId, group);
        else w.WriteNumber(Field.Peer, peer ?? 0);
    }
}
