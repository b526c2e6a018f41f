using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Unicode;
using Chat.Protocol;

namespace Chat.Protocol;

/// <summary>
/// Reads one frame into a typed <see cref="Request"/> with <see cref="Utf8JsonReader"/> straight over the frame bytes.
/// Unknown fields are skipped; a known field of the wrong type, malformed JSON, a non-object or invalid UTF-8 is a
/// <see cref="RequestError"/> that still carries msgid and cid when they could be read. A request lacking a field it
/// needs is an <see cref="InvalidRequest"/>.
/// </summary>
public static class RequestReader
{
    private const int MaxResumePoints = 4096;
    private const string ResumeShape = "field 'resume' must be an array of {\"peer\" or \"groupid\", \"seq\"} objects";

    public static bool TryParse(in ReadOnlySequence<byte> frame, [NotNullWhen(true)] out Request? request, [NotNullWhen(false)] out RequestError? error)
    {
        request = null;
        if (!IsValidUtf8(frame))
        {
            error = new RequestError(ErrorCode.BadRequest, "frame is not valid UTF-8", null, null);
            return false;
        }

        var fields = new Fields();
        try
        {
            var reader = new Utf8JsonReader(frame, new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = new RequestError(ErrorCode.BadRequest, "frame must be a JSON object", null, null);
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                ReadField(ref reader, ref fields);
            }

            if (reader.Read())
            {
                fields.Problem ??= "unexpected data after the JSON object";
            }
        }
        catch (JsonException)
        {
            error = new RequestError(ErrorCode.BadRequest, "malformed JSON", fields.MsgId, fields.Cid);
            return false;
        }

        if (fields.Problem is null && fields.MsgId is null)
        {
            fields.Problem = "field 'msgid' is required";
        }

        if (fields.Problem is not null)
        {
            error = new RequestError(ErrorCode.BadRequest, fields.Problem, fields.MsgId, fields.Cid);
            return false;
        }

        if (!Enum.IsDefined((MsgId)fields.MsgId!.Value))
        {
            error = new RequestError(ErrorCode.UnknownMsgId, "unknown msgid", fields.MsgId, fields.Cid);
            return false;
        }

        error = null;
        request = fields.Bind() with { Cid = fields.Cid };
        return true;
    }

    private static void ReadField(ref Utf8JsonReader reader, ref Fields f)
    {
        if (reader.ValueTextEquals(Field.MsgId.EncodedUtf8Bytes)) f.MsgId = ReadInt(ref reader, "msgid", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Id.EncodedUtf8Bytes)) f.Id = ReadInt(ref reader, "id", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Name.EncodedUtf8Bytes)) f.Name = ReadString(ref reader, "name", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Password.EncodedUtf8Bytes)) f.Password = ReadString(ref reader, "password", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Token.EncodedUtf8Bytes)) f.Token = ReadString(ref reader, "token", ref f.Problem);
        else if (reader.ValueTextEquals(Field.All.EncodedUtf8Bytes)) f.All = ReadBool(ref reader, "all", ref f.Problem);
        else if (reader.ValueTextEquals(Field.ToId.EncodedUtf8Bytes)) f.ToId = ReadInt(ref reader, "toid", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Msg.EncodedUtf8Bytes)) f.Msg = ReadString(ref reader, "msg", ref f.Problem);
        else if (reader.ValueTextEquals(Field.File.EncodedUtf8Bytes)) f.File = ReadString(ref reader, "file", ref f.Problem);
        else if (reader.ValueTextEquals(Field.About.EncodedUtf8Bytes)) f.About = ReadString(ref reader, "about", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Avatar.EncodedUtf8Bytes)) f.Avatar = ReadString(ref reader, "avatar", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Q.EncodedUtf8Bytes)) f.Q = ReadString(ref reader, "q", ref f.Problem);
        else if (reader.ValueTextEquals(Field.On.EncodedUtf8Bytes)) f.On = ReadBool(ref reader, "on", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Time.EncodedUtf8Bytes)) f.Time = ReadString(ref reader, "time", ref f.Problem);
        else if (reader.ValueTextEquals(Field.FriendId.EncodedUtf8Bytes)) f.FriendId = ReadInt(ref reader, "friendid", ref f.Problem);
        else if (reader.ValueTextEquals(Field.GroupId.EncodedUtf8Bytes)) f.GroupId = ReadInt(ref reader, "groupid", ref f.Problem);
        else if (reader.ValueTextEquals(Field.GroupName.EncodedUtf8Bytes)) f.GroupName = ReadString(ref reader, "groupname", ref f.Problem);
        else if (reader.ValueTextEquals(Field.GroupDesc.EncodedUtf8Bytes)) f.GroupDesc = ReadString(ref reader, "groupdesc", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Cid.EncodedUtf8Bytes)) f.Cid = ReadCid(ref reader, ref f.Problem);
        else if (reader.ValueTextEquals(Field.V.EncodedUtf8Bytes)) f.V = ReadInt(ref reader, "v", ref f.Problem) ?? 0;
        else if (reader.ValueTextEquals(Field.Resume.EncodedUtf8Bytes)) f.Resume = ReadResume(ref reader, ref f.Problem);
        else if (reader.ValueTextEquals(Field.Peer.EncodedUtf8Bytes)) f.Peer = ReadInt(ref reader, "peer", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Before.EncodedUtf8Bytes)) f.Before = ReadLong(ref reader, "before", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Limit.EncodedUtf8Bytes)) f.Limit = ReadInt(ref reader, "limit", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Seq.EncodedUtf8Bytes)) f.Seq = ReadLong(ref reader, "seq", ref f.Problem);
        else if (reader.ValueTextEquals(Field.UserId.EncodedUtf8Bytes)) f.UserId = ReadInt(ref reader, "userid", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Reply.EncodedUtf8Bytes)) f.Reply = ReadLong(ref reader, "reply", ref f.Problem);
        else if (reader.ValueTextEquals(Field.Emoji.EncodedUtf8Bytes)) f.Emoji = ReadString(ref reader, "emoji", ref f.Problem);
        else if (reader.ValueTextEquals(Field.On.EncodedUtf8Bytes)) f.On = ReadBool(ref reader, "on", ref f.Problem);
        else
        {
            reader.Read();
            reader.Skip();
        }
    }

    private static int? ReadInt(ref Utf8JsonReader reader, string field, ref string? problem)
    {
        var value = ReadLong(ref reader, field, ref problem);
        if (value is null or (>= int.MinValue and <= int.MaxValue))
        {
            return (int?)value;
        }

        problem ??= $"field '{field}' must be an integer";
        return null;
    }

    private static long? ReadLong(ref Utf8JsonReader reader, string field, ref string? problem)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
        {
            return value;
        }

        reader.Skip();
        problem ??= $"field '{field}' must be an integer";
        return null;
    }

    private static bool ReadBool(ref Utf8JsonReader reader, string field, ref string? problem)
    {
        reader.Read();
        if (reader.TokenType is JsonTokenType.True or JsonTokenType.False)
        {
            return reader.GetBoolean();
        }

        reader.Skip();
        problem ??= $"field '{field}' must be true or false";
        return false;
    }

    private static string? ReadString(ref Utf8JsonReader reader, string field, ref string? problem)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            problem ??= $"field '{field}' must be a string";
            return null;
        }

        if (TryGetString(ref reader) is { } text)
        {
            return text;
        }

        problem ??= $"field '{field}' must not contain unpaired surrogates";
        return null;
    }

    private static List<ResumePoint>? ReadResume(ref Utf8JsonReader reader, ref string? problem)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            problem ??= ResumeShape;
            return null;
        }

        var points = new List<ResumePoint>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var point = reader.TokenType == JsonTokenType.StartObject ? ReadResumePoint(ref reader) : null;
            reader.Skip();
            if (point is null || points.Count == MaxResumePoints)
            {
                problem ??= point is null ? ResumeShape : $"field 'resume' may list at most {MaxResumePoints} conversations";
                continue;
            }

            points.Add(point.Value);
        }

        return points;
    }

    /// <summary>Reads one {"peer"|"groupid", "seq"} object up to its end; null when it is not one.</summary>
    private static ResumePoint? ReadResumePoint(ref Utf8JsonReader reader)
    {
        int? peer = null, group = null;
        long? seq = null;
        var valid = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.ValueTextEquals(Field.Peer.EncodedUtf8Bytes) ? 1
                : reader.ValueTextEquals(Field.GroupId.EncodedUtf8Bytes) ? 2
                : reader.ValueTextEquals(Field.Seq.EncodedUtf8Bytes) ? 3
                : 0;
            reader.Read();
            if (key == 0)
            {
                reader.Skip();
            }
            else if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value) || value < 0 || (key < 3 && value > int.MaxValue))
            {
                reader.Skip();
                valid = false;
            }
            else if (key == 1) peer = (int)value;
            else if (key == 2) group = (int)value;
            else seq = value;
        }

        return valid && seq is { } s && (peer is null) != (group is null) ? new ResumePoint(peer, group, s) : null;
    }

    private static Cid? ReadCid(ref Utf8JsonReader reader, ref string? problem)
    {
        reader.Read();
        Cid? cid;
        try
        {
            cid = Cid.Read(ref reader);
        }
        catch (InvalidOperationException)
        {
            cid = null; // half a surrogate pair
        }

        reader.Skip();
        if (cid is null || cid.Value.Text.Length > Cid.MaxLength)
        {
            problem ??= $"field 'cid' must be a string or number of at most {Cid.MaxLength} characters";
            return null;
        }

        return cid;
    }

    /// <returns>The string token's text, or null for an escape such as \ud800 (half a surrogate pair: no text holds it).</returns>
    private static string? TryGetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static bool IsValidUtf8(in ReadOnlySequence<byte> frame)
    {
        if (frame.IsSingleSegment)
        {
            return Utf8.IsValid(frame.FirstSpan);
        }

        var copy = ArrayPool<byte>.Shared.Rent((int)frame.Length);
        try
        {
            frame.CopyTo(copy);
            return Utf8.IsValid(copy.AsSpan(0, (int)frame.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private struct Fields
    {
        public string? Problem;
        public int? MsgId;
        public int? Id;
        public string? Name;
        public string? Password;
        public string? Token;
        public bool All;
        public int? ToId;
        public string? Msg;
        public string? Time;
        public int? FriendId;
        public int? GroupId;
        public string? GroupName;
        public string? GroupDesc;
        public Cid? Cid;
        public int V;
        public List<ResumePoint>? Resume;
        public int? Peer;
        public long? Before;
        public int? Limit;
        public long? Seq;
        public int? UserId;
        public long? Reply;
        public string? Emoji;
        public string? File;
        public string? About, Avatar, Q;
        public bool? On;

        /// <summary>The typed request of this msgid, or what it lacks.</summary>
        public readonly Request Bind() => (MsgId)MsgId!.Value switch
        {
            Protocol.MsgId.Login when Id is { } id && (Password is not null || Token is not null) => new LoginRequest(id, Password, V, Resume) { Token = Password is null ? Token : null },
            Protocol.MsgId.Login => new InvalidRequest(Protocol.MsgId.Login, ErrorCode.Invalid, "LOGIN needs id and password (or token)"),
            Protocol.MsgId.LoginOut => new LogoutRequest { All = All },
            Protocol.MsgId.Reg => new RegisterRequest(Name, Password),
            Protocol.MsgId.OneChat or Protocol.MsgId.GroupChat when Reply is < 1 => new InvalidRequest((MsgId)MsgId!.Value, ErrorCode.BadRequest, "reply must be a seq, 1 or more"),
            Protocol.MsgId.OneChat when ToId is { } to && (Msg is not null || File is not null) => new OneChatRequest(to, Msg ?? "", Time) { Reply = Reply, File = File },
            Protocol.MsgId.OneChat => new InvalidRequest(Protocol.MsgId.OneChat, ErrorCode.BadRequest, "ONE_CHAT needs toid and msg"),
            Protocol.MsgId.GroupChat when GroupId is { } group && (Msg is not null || File is not null) => new GroupChatRequest(group, Msg ?? "", Time) { Reply = Reply, File = File },
            Protocol.MsgId.GroupChat => new InvalidRequest(Protocol.MsgId.GroupChat, ErrorCode.BadRequest, "GROUP_CHAT needs groupid and msg"),
            Protocol.MsgId.AddFriend when FriendId is { } friend => new AddFriendRequest(friend),
            Protocol.MsgId.AddFriend => new InvalidRequest(Protocol.MsgId.AddFriend, ErrorCode.BadRequest, "field 'friendid' is required"),
            Protocol.MsgId.CreateGroup => new CreateGroupRequest(GroupName, GroupDesc),
            Protocol.MsgId.AddGroup when GroupId is { } group => new JoinGroupRequest(group),
            Protocol.MsgId.AddGroup => new InvalidRequest(Protocol.MsgId.AddGroup, ErrorCode.BadRequest, "field 'groupid' is required"),
            Protocol.MsgId.Ping => new PingRequest(),
            Protocol.MsgId.Typing when ConversationProblem("TYPING") is { } problem => new InvalidRequest(Protocol.MsgId.Typing, ErrorCode.BadRequest, problem),
            Protocol.MsgId.Typing => new TypingRequest(Peer, GroupId),
            Protocol.MsgId.History => BindHistory(),
            Protocol.MsgId.Read when ConversationProblem("READ") is { } problem => new InvalidRequest(Protocol.MsgId.Read, ErrorCode.BadRequest, problem),
            Protocol.MsgId.Read when Seq is not { } seq || seq < 0 => new InvalidRequest(Protocol.MsgId.Read, ErrorCode.BadRequest, "READ needs seq, 0 or more"),
            Protocol.MsgId.Read => new ReadRequest(Peer, GroupId, Seq!.Value),
            Protocol.MsgId.LeaveGroup when GroupId is { } group => new LeaveGroupRequest(group),
            Protocol.MsgId.LeaveGroup => new InvalidRequest(Protocol.MsgId.LeaveGroup, ErrorCode.BadRequest, "field 'groupid' is required"),
            Protocol.MsgId.RemoveMember when GroupId is { } group && UserId is { } user => new RemoveMemberRequest(group, user),
            Protocol.MsgId.RemoveMember => new InvalidRequest(Protocol.MsgId.RemoveMember, ErrorCode.BadRequest, "REMOVE_MEMBER needs groupid and userid"),
            Protocol.MsgId.RemoveFriend when FriendId is { } friend => new RemoveFriendRequest(friend),
            Protocol.MsgId.RemoveFriend => new InvalidRequest(Protocol.MsgId.RemoveFriend, ErrorCode.BadRequest, "field 'friendid' is required"),
            Protocol.MsgId.Edit or Protocol.MsgId.Recall or Protocol.MsgId.React => BindEvent(),
            Protocol.MsgId.Profile => new ProfileRequest(About, Avatar),
            Protocol.MsgId.Find when Q is { } q => new FindRequest(q),
            Protocol.MsgId.Find => new InvalidRequest(Protocol.MsgId.Find, ErrorCode.BadRequest, "field 'q' is required"),
            Protocol.MsgId.Block when UserId is { } blocked => new BlockRequest(blocked, On ?? true),
            Protocol.MsgId.Block => new InvalidRequest(Protocol.MsgId.Block, ErrorCode.BadRequest, "field 'userid' is required"),
            var other => new InvalidRequest(other, ErrorCode.UnknownMsgId, $"msgid {(int)other} is not a request"),
        };

        /// <summary>EDIT, RECALL or REACT: a conversation, the message's seq, and the text or emoji.</summary>
        private readonly Request BindEvent()
        {
            var kind = (MsgId)MsgId!.Value;
            var name = kind switch { Protocol.MsgId.Edit => "EDIT", Protocol.MsgId.Recall => "RECALL", _ => "REACT" };
            var problem = ConversationProblem(name)
                ?? (Seq is not >= 1 ? $"{name} needs seq, 1 or more" : null)
                ?? (kind == Protocol.MsgId.Edit && Msg is null ? "EDIT needs msg" : null)
                ?? (kind == Protocol.MsgId.React ? EmojiProblem(Emoji) : null);
            if (problem is not null)
            {
                return new InvalidRequest(kind, ErrorCode.BadRequest, problem);
            }

            return kind switch
            {
                Protocol.MsgId.Edit => new EditRequest(Peer, GroupId, Seq!.Value, Msg!),
                Protocol.MsgId.Recall => new RecallRequest(Peer, GroupId, Seq!.Value),
                _ => new ReactRequest(Peer, GroupId, Seq!.Value, Emoji!, On ?? true),
            };
        }

        /// <summary>An emoji is 1–16 UTF-16 units with no white space or control characters.</summary>
        private static string? EmojiProblem(string? emoji)
        {
            const string Shape = "emoji must be 1 to 16 UTF-16 units, with no white space or control characters";
            if (emoji is null || emoji.Length is 0 or > ReactRequest.MaxEmojiLength)
            {
                return Shape;
            }

            foreach (var c in emoji)
            {
                if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '\u200B' or '\u2028' or '\u2029' or '\uFEFF')
                {
                    return Shape;
                }
            }

            return null;
        }

        private readonly Request BindHistory()
        {
            var problem = ConversationProblem("HISTORY")
                ?? (Limit is < 1 or > HistoryRequest.MaxLimit ? $"limit must be 1 to {HistoryRequest.MaxLimit}" : null)
                ?? (Before is < 1 ? "before must be a seq, 1 or more" : null);
            return problem is null
                ? new HistoryRequest(Peer, GroupId, Before, Limit ?? HistoryRequest.DefaultLimit)
                : new InvalidRequest(Protocol.MsgId.History, ErrorCode.BadRequest, problem);
        }

        /// <summary>A conversation is named by exactly one of peer and groupid.</summary>
        private readonly string? ConversationProblem(string request) =>
            (Peer is null) == (GroupId is null) ? $"{request} needs exactly one of peer and groupid" : null;
    }
}
