using System.Globalization;
using System.Text.Json;
using Chat.Protocol;

namespace Chat.Client;

/// <summary>Turns server frames into the lines the user reads, in the seed client's wording.</summary>
public static class Format
{
    private const string Rule = "======================================================";

    /// <summary><c>time [id] name said: msg</c>, prefixed with <c>group message[groupid]: </c> for a group.</summary>
    public static string Chat(JsonElement frame)
    {
        var line = $"{Text(frame, "time")} [{Number(frame, "id")}] {Text(frame, "name")} said: {Text(frame, "msg")}";
        return IsGroup(frame) ? $"group message[{Number(frame, "groupid")}]: {line}" : line;
    }

    /// <summary>The conversation a chat frame belongs to, seen by user <paramref name="me"/>.</summary>
    public static Conversation ConversationOf(JsonElement frame, int me)
    {
        if (IsGroup(frame))
        {
            return new Conversation(true, Number(frame, "groupid"));
        }

        var sender = Number(frame, "id");
        return new Conversation(false, sender == me ? Number(frame, "toid") : sender);
    }

    /// <summary>The frame's seq, or null from a server that sends none.</summary>
    public static long? Seq(JsonElement frame) =>
        frame.TryGetProperty("seq", out var seq) && seq.TryGetInt64(out var value) ? value : null;

    public static bool IsChat(JsonElement frame) => MsgIdOf(frame) is MsgId.OneChat or MsgId.GroupChat;

    public static MsgId? MsgIdOf(JsonElement frame) =>
        frame.ValueKind == JsonValueKind.Object && frame.TryGetProperty("msgid", out var id) && id.TryGetInt32(out var value)
            ? (MsgId)value
            : null;

    public static int Errno(JsonElement frame) =>
        frame.TryGetProperty("errno", out var errno) && errno.TryGetInt32(out var value) ? value : 0;

    public static string Error(JsonElement frame) => $"error {Errno(frame)}: {Text(frame, "errmsg")}";

    /// <summary>The logged-in user, their friends and their groups with members, from a LOGIN_ACK.</summary>
    public static IEnumerable<string> LoginSummary(JsonElement ack)
    {
        yield return "======================login user======================";
        yield return $"current login user => id:{Number(ack, "id")} name:{Text(ack, "name")}";
        yield return "----------------------friend list---------------------";
        foreach (var friend in List(ack, "friends"))
        {
            yield return $"{Number(friend, "id")} {Text(friend, "name")} {Text(friend, "state")}";
        }

        yield return "----------------------group list----------------------";
        foreach (var group in List(ack, "groups"))
        {
            yield return $"{Number(group, "id")} {Text(group, "groupname")} {Text(group, "groupdesc")}";
            foreach (var user in List(group, "users"))
            {
                yield return $"    {Number(user, "id")} {Text(user, "name")} {Text(user, "state")} {Text(user, "role")}";
            }
        }

        yield return Rule;
    }

    /// <summary>The entries of a list in LOGIN_ACK: objects (<c>"v":2</c>) or, from a seed server, JSON strings.</summary>
    public static IEnumerable<JsonElement> List(JsonElement frame, string name)
    {
        if (!frame.TryGetProperty(name, out var list) || list.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var entry in list.EnumerateArray())
        {
            if (entry.ValueKind == JsonValueKind.String)
            {
                using var nested = JsonDocument.Parse(entry.GetString()!);
                yield return nested.RootElement.Clone();
            }
            else
            {
                yield return entry;
            }
        }
    }

    private static bool IsGroup(JsonElement frame) => MsgIdOf(frame) == MsgId.GroupChat;

    public static int Number(JsonElement frame, string name) =>
        frame.TryGetProperty(name, out var value) && value.TryGetInt32(out var number) ? number : 0;

    private static string Text(JsonElement frame, string name) =>
        frame.TryGetProperty(name, out var value)
            ? value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText()
            : "";

    /// <summary>The local time as chat frames carry it.</summary>
    public static string Now(TimeProvider clock) =>
        clock.GetLocalNow().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
