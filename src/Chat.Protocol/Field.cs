using System.Text.Json;

namespace Chat.Protocol;

/// <summary>
/// Every field name on the wire, spelled once. Pre-encoded for <see cref="Utf8JsonWriter"/> and for matching with
/// <see cref="Utf8JsonReader.ValueTextEquals(ReadOnlySpan{byte})"/>; <see cref="JsonEncodedText.Value"/> gives the
/// text for <c>JsonElement</c> lookups.
/// </summary>
public static class Field
{
    public static readonly JsonEncodedText MsgId = JsonEncodedText.Encode("msgid");
    public static readonly JsonEncodedText Cid = JsonEncodedText.Encode("cid");
    public static readonly JsonEncodedText Errno = JsonEncodedText.Encode("errno");
    public static readonly JsonEncodedText ErrMsg = JsonEncodedText.Encode("errmsg");
    public static readonly JsonEncodedText Req = JsonEncodedText.Encode("req");
    public static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
    public static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");
    public static readonly JsonEncodedText Password = JsonEncodedText.Encode("password");
    public static readonly JsonEncodedText Token = JsonEncodedText.Encode("token");
    public static readonly JsonEncodedText All = JsonEncodedText.Encode("all");
    public static readonly JsonEncodedText ToId = JsonEncodedText.Encode("toid");
    public static readonly JsonEncodedText Msg = JsonEncodedText.Encode("msg");
    public static readonly JsonEncodedText Time = JsonEncodedText.Encode("time");
    public static readonly JsonEncodedText FriendId = JsonEncodedText.Encode("friendid");
    public static readonly JsonEncodedText GroupId = JsonEncodedText.Encode("groupid");
    public static readonly JsonEncodedText GroupName = JsonEncodedText.Encode("groupname");
    public static readonly JsonEncodedText GroupDesc = JsonEncodedText.Encode("groupdesc");
    public static readonly JsonEncodedText V = JsonEncodedText.Encode("v");
    public static readonly JsonEncodedText Resume = JsonEncodedText.Encode("resume");
    public static readonly JsonEncodedText Peer = JsonEncodedText.Encode("peer");
    public static readonly JsonEncodedText Seq = JsonEncodedText.Encode("seq");
    public static readonly JsonEncodedText Ts = JsonEncodedText.Encode("ts");
    public static readonly JsonEncodedText Friend = JsonEncodedText.Encode("friend");
    public static readonly JsonEncodedText Group = JsonEncodedText.Encode("group");
    public static readonly JsonEncodedText Friends = JsonEncodedText.Encode("friends");
    public static readonly JsonEncodedText Groups = JsonEncodedText.Encode("groups");
    public static readonly JsonEncodedText Users = JsonEncodedText.Encode("users");
    public static readonly JsonEncodedText State = JsonEncodedText.Encode("state");
    public static readonly JsonEncodedText Role = JsonEncodedText.Encode("role");
    public static readonly JsonEncodedText OfflineMsg = JsonEncodedText.Encode("offlinemsg");
    public static readonly JsonEncodedText Convs = JsonEncodedText.Encode("convs");
    public static readonly JsonEncodedText More = JsonEncodedText.Encode("more");
    public static readonly JsonEncodedText Start = JsonEncodedText.Encode("start");
    public static readonly JsonEncodedText Before = JsonEncodedText.Encode("before");
    public static readonly JsonEncodedText Limit = JsonEncodedText.Encode("limit");
    public static readonly JsonEncodedText Messages = JsonEncodedText.Encode("messages");
    public static readonly JsonEncodedText Read = JsonEncodedText.Encode("read");
    public static readonly JsonEncodedText Unread = JsonEncodedText.Encode("unread");
    public static readonly JsonEncodedText UserId = JsonEncodedText.Encode("userid");
    public static readonly JsonEncodedText By = JsonEncodedText.Encode("by");

    // The conversation is a log (issue 21).
    public static readonly JsonEncodedText Ref = JsonEncodedText.Encode("ref");
    public static readonly JsonEncodedText Emoji = JsonEncodedText.Encode("emoji");
    public static readonly JsonEncodedText On = JsonEncodedText.Encode("on");
    public static readonly JsonEncodedText Reply = JsonEncodedText.Encode("reply");
    public static readonly JsonEncodedText Edited = JsonEncodedText.Encode("edited");
    public static readonly JsonEncodedText Recalled = JsonEncodedText.Encode("recalled");
    public static readonly JsonEncodedText Reactions = JsonEncodedText.Encode("reactions");
    public static readonly JsonEncodedText Ids = JsonEncodedText.Encode("ids");
    // Files (a chat message's attachment).
    public static readonly JsonEncodedText File = JsonEncodedText.Encode("file");
    public static readonly JsonEncodedText Size = JsonEncodedText.Encode("size");
    public static readonly JsonEncodedText Type = JsonEncodedText.Encode("type");
    public static readonly JsonEncodedText Thumb = JsonEncodedText.Encode("thumb");

    // People (PROFILE, FIND, BLOCK).
    public static readonly JsonEncodedText About = JsonEncodedText.Encode("about");
    public static readonly JsonEncodedText Avatar = JsonEncodedText.Encode("avatar");
    public static readonly JsonEncodedText Q = JsonEncodedText.Encode("q");
    public static readonly JsonEncodedText Blocked = JsonEncodedText.Encode("blocked");

    /// <summary>Values of <see cref="State"/> and <see cref="Role"/>.</summary>
    public static readonly JsonEncodedText Online = JsonEncodedText.Encode("online");
    public static readonly JsonEncodedText Offline = JsonEncodedText.Encode("offline");
    public static readonly JsonEncodedText Creator = JsonEncodedText.Encode("creator");
    public static readonly JsonEncodedText Normal = JsonEncodedText.Encode("normal");
}
