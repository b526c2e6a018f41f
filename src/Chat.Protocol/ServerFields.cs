using System.Text.Json;

namespace Chat.Protocol;

/// <summary>The fields a server frame, or an entry of its lists, may carry.</summary>
public enum ServerField
{
    MsgId,
    Cid,
    Errno,
    Seq,
    Ts,
    Id,
    Name,
    ToId,
    GroupId,
    Msg,
    Time,
    ErrMsg,
    Req,
    Peer,
    State,
    Role,
    GroupName,
    GroupDesc,
    Users,
    Friends,
    Groups,
    OfflineMsg,
    Convs,
    More,
    Token,
    Messages,
    Read,
    Unread,
    UserId,
    By,
    Ref,
    Emoji,
    On,
    Reply,
    Edited,
    Recalled,
    Reactions,
    Ids,
    File,
    About,
    Avatar,
}

/// <summary>
/// Walks the fields of a JSON object from the server with a <see cref="Utf8JsonReader"/>, naming each by
/// <see cref="ServerField"/> and skipping the ones it does not know. The caller reads each value it wants straight
/// from the reader, so a reader that needs a few numbers (the load generator) allocates nothing.
/// </summary>
public static class ServerFields
{
    /// <summary>A reader over one frame (without its newline), positioned on the opening brace.</summary>
    /// <exception cref="JsonException">The frame is not a JSON object.</exception>
    public static Utf8JsonReader Open(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a server frame must be a JSON object");
        }

        return reader;
    }

    /// <summary>
    /// Moves to the next known field's value: from the object's opening brace, or from the previous value, which the
    /// caller has read or passed with <see cref="Utf8JsonReader.Skip"/> (a no-op on a scalar). False at the end of
    /// the object. Malformed JSON throws <see cref="JsonException"/>.
    /// </summary>
    public static bool Next(ref Utf8JsonReader reader, out ServerField field)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var known = Match(ref reader);
            reader.Read();
            if (known is { } name)
            {
                field = name;
                return true;
            }

            reader.Skip();
        }

        field = default;
        return false;
    }

    private static ServerField? Match(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals(Field.MsgId.EncodedUtf8Bytes) ? ServerField.MsgId
        : reader.ValueTextEquals(Field.Cid.EncodedUtf8Bytes) ? ServerField.Cid
        : reader.ValueTextEquals(Field.Errno.EncodedUtf8Bytes) ? ServerField.Errno
        : reader.ValueTextEquals(Field.Seq.EncodedUtf8Bytes) ? ServerField.Seq
        : reader.ValueTextEquals(Field.Ts.EncodedUtf8Bytes) ? ServerField.Ts
        : reader.ValueTextEquals(Field.Id.EncodedUtf8Bytes) ? ServerField.Id
        : reader.ValueTextEquals(Field.Name.EncodedUtf8Bytes) ? ServerField.Name
        : reader.ValueTextEquals(Field.ToId.EncodedUtf8Bytes) ? ServerField.ToId
        : reader.ValueTextEquals(Field.GroupId.EncodedUtf8Bytes) ? ServerField.GroupId
        : reader.ValueTextEquals(Field.Msg.EncodedUtf8Bytes) ? ServerField.Msg
        : reader.ValueTextEquals(Field.Time.EncodedUtf8Bytes) ? ServerField.Time
        : reader.ValueTextEquals(Field.ErrMsg.EncodedUtf8Bytes) ? ServerField.ErrMsg
        : reader.ValueTextEquals(Field.Req.EncodedUtf8Bytes) ? ServerField.Req
        : reader.ValueTextEquals(Field.Peer.EncodedUtf8Bytes) ? ServerField.Peer
        : reader.ValueTextEquals(Field.State.EncodedUtf8Bytes) ? ServerField.State
        : reader.ValueTextEquals(Field.Role.EncodedUtf8Bytes) ? ServerField.Role
        : reader.ValueTextEquals(Field.GroupName.EncodedUtf8Bytes) ? ServerField.GroupName
        : reader.ValueTextEquals(Field.GroupDesc.EncodedUtf8Bytes) ? ServerField.GroupDesc
        : reader.ValueTextEquals(Field.Users.EncodedUtf8Bytes) ? ServerField.Users
        : reader.ValueTextEquals(Field.Friends.EncodedUtf8Bytes) ? ServerField.Friends
        : reader.ValueTextEquals(Field.Groups.EncodedUtf8Bytes) ? ServerField.Groups
        : reader.ValueTextEquals(Field.OfflineMsg.EncodedUtf8Bytes) ? ServerField.OfflineMsg
        : reader.ValueTextEquals(Field.Convs.EncodedUtf8Bytes) ? ServerField.Convs
        : reader.ValueTextEquals(Field.More.EncodedUtf8Bytes) ? ServerField.More
        : reader.ValueTextEquals(Field.Token.EncodedUtf8Bytes) ? ServerField.Token
        : reader.ValueTextEquals(Field.Messages.EncodedUtf8Bytes) ? ServerField.Messages
        : reader.ValueTextEquals(Field.Read.EncodedUtf8Bytes) ? ServerField.Read
        : reader.ValueTextEquals(Field.Unread.EncodedUtf8Bytes) ? ServerField.Unread
        : reader.ValueTextEquals(Field.UserId.EncodedUtf8Bytes) ? ServerField.UserId
        : reader.ValueTextEquals(Field.By.EncodedUtf8Bytes) ? ServerField.By
        : reader.ValueTextEquals(Field.Ref.EncodedUtf8Bytes) ? ServerField.Ref
        : reader.ValueTextEquals(Field.Emoji.EncodedUtf8Bytes) ? ServerField.Emoji
        : reader.ValueTextEquals(Field.On.EncodedUtf8Bytes) ? ServerField.On
        : reader.ValueTextEquals(Field.Reply.EncodedUtf8Bytes) ? ServerField.Reply
        : reader.ValueTextEquals(Field.Edited.EncodedUtf8Bytes) ? ServerField.Edited
        : reader.ValueTextEquals(Field.Recalled.EncodedUtf8Bytes) ? ServerField.Recalled
        : reader.ValueTextEquals(Field.Reactions.EncodedUtf8Bytes) ? ServerField.Reactions
        : reader.ValueTextEquals(Field.Ids.EncodedUtf8Bytes) ? ServerField.Ids
        : reader.ValueTextEquals(Field.File.EncodedUtf8Bytes) ? ServerField.File
        : reader.ValueTextEquals(Field.About.EncodedUtf8Bytes) ? ServerField.About
        : reader.ValueTextEquals(Field.Avatar.EncodedUtf8Bytes) ? ServerField.Avatar
        : null;
}
