using System.Buffers;
using System.Text;
using Chat.Protocol;

namespace Chat.Tests.Protocol;

/// <summary>HISTORY, READ, LEAVE_GROUP, REMOVE_MEMBER, REMOVE_FRIEND and the ACKs of ADD_FRIEND and ADD_GROUP on the wire: what a client may send, what it gets.</summary>
[Trait("Kind", "Unit")]
public sealed class HistoryAndMembershipFramesTests
{
    [Fact]
    public void History_takes_peer_or_groupid_an_optional_before_and_a_limit_of_50_by_default()
    {
        Assert.Equal(new HistoryRequest(7, null, null, 50), Parse("""{"msgid":15,"peer":7}"""));
        Assert.Equal(new HistoryRequest(null, 3, 9_000_000_000, 1) { Cid = Cid.From("h") }, Parse("""{"msgid":15,"groupid":3,"before":9000000000,"limit":1,"cid":"h"}"""));
        Assert.Equal(new ReadRequest(7, null, 12), Parse("""{"msgid":17,"peer":7,"seq":12}"""));
        Assert.Equal(new RemoveMemberRequest(3, 7), Parse("""{"msgid":22,"groupid":3,"userid":7}"""));
    }

    [Theory]
    [InlineData("""{"msgid":15}""", "HISTORY needs exactly one of peer and groupid")]
    [InlineData("""{"msgid":15,"peer":1,"groupid":2}""", "HISTORY needs exactly one of peer and groupid")]
    [InlineData("""{"msgid":15,"peer":1,"limit":0}""", "limit must be 1 to 200")]
    [InlineData("""{"msgid":15,"peer":1,"limit":201}""", "limit must be 1 to 200")]
    [InlineData("""{"msgid":15,"peer":1,"before":0}""", "before must be a seq, 1 or more")]
    [InlineData("""{"msgid":17,"groupid":1}""", "READ needs seq, 0 or more")]
    [InlineData("""{"msgid":17,"groupid":1,"seq":-1}""", "READ needs seq, 0 or more")]
    [InlineData("""{"msgid":17,"seq":1}""", "READ needs exactly one of peer and groupid")]
    [InlineData("""{"msgid":21}""", "field 'groupid' is required")]
    [InlineData("""{"msgid":22,"groupid":1}""", "REMOVE_MEMBER needs groupid and userid")]
    [InlineData("""{"msgid":23}""", "field 'friendid' is required")]
    public void A_request_lacking_what_it_needs_or_out_of_range_is_a_bad_request(string json, string problem)
    {
        var invalid = Assert.IsType<InvalidRequest>(Parse(json));
        Assert.Equal((ErrorCode.BadRequest, problem), (invalid.Code, invalid.Problem));
    }

    [Theory]
    [InlineData("""{"msgid":15,"peer":"7"}""", "field 'peer' must be an integer")]
    [InlineData("""{"msgid":15,"peer":7,"limit":2.5}""", "field 'limit' must be an integer")]
    [InlineData("""{"msgid":15,"peer":7,"before":99999999999999999999}""", "field 'before' must be an integer")]
    [InlineData("""{"msgid":17,"peer":7,"seq":"1"}""", "field 'seq' must be an integer")]
    [InlineData("""{"msgid":22,"groupid":1,"userid":4294967296}""", "field 'userid' must be an integer")]
    public void A_field_of_the_wrong_type_is_refused_with_its_name(string json, string problem)
    {
        Assert.False(RequestReader.TryParse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), out _, out var error));
        Assert.Equal((ErrorCode.BadRequest, problem), (error.Code, error.Message));
    }

    [Fact]
    public void Add_friend_and_add_group_acks_carry_the_entry_as_a_v2_login_lists_it_and_without_a_cid_there_is_no_answer()
    {
        var friend = new FriendAdded(new UserEntry(7, "bob", Online: true));
        var group = new GroupJoined(new GroupEntry(3, "g", "d", [new UserEntry(7, "bob", true, Creator: true), new UserEntry(9, "una", false, Creator: false)]));

        Assert.Equal("""{"msgid":11,"cid":"f","errno":0,"friend":{"id":7,"name":"bob","state":"online"}}""" + "\n", Encoding.UTF8.GetString(ServerFrames.Reply(MsgId.AddFriend, Cid.From("f"), friend)!));
        Assert.Equal(
            """{"msgid":11,"cid":"j","errno":0,"group":{"id":3,"groupname":"g","groupdesc":"d","users":[{"id":7,"name":"bob","state":"online","role":"creator"},{"id":9,"name":"una","state":"offline","role":"normal"}]}}""" + "\n",
            Encoding.UTF8.GetString(ServerFrames.Reply(MsgId.AddGroup, Cid.From("j"), group)!));
        Assert.Null(ServerFrames.Reply(MsgId.AddFriend, null, friend));
        Assert.Null(ServerFrames.Reply(MsgId.AddGroup, null, group));
    }

    [Fact]
    public void A_join_is_pushed_to_the_other_members_as_add_group_with_the_member_and_reads_back()
    {
        var frame = ServerFrames.MemberJoined(3, new UserEntry(9, "una", true, Creator: false));

        Assert.Equal("""{"msgid":9,"groupid":3,"id":9,"name":"una","state":"online","role":"normal"}""" + "\n", Encoding.UTF8.GetString(frame));
        var read = Assert.IsType<MemberJoinedMessage>(ServerFrameReader.Read(frame.AsSpan(..^1)));
        Assert.Equal((3, new UserEntry(9, "una", true, false)), (read.GroupId, read.Member));
    }

    [Fact]
    public void History_ack_carries_the_messages_as_objects_and_reads_back()
    {
        var chat = ServerFrames.Chat(new ChatPush(false, 1, "alice", 2, "hi", "t", 4, 99));
        var frame = ServerFrames.Reply(MsgId.History, Cid.From(5), new HistoryPage(1, null, [chat], More: true))!;

        Assert.Equal("""{"msgid":16,"errno":0,"cid":5,"peer":1,"messages":[{"msgid":6,"id":1,"name":"alice","toid":2,"msg":"hi","time":"t","seq":4,"ts":99}],"more":true}""" + "\n", Encoding.UTF8.GetString(frame));
        var read = Assert.IsType<HistoryAckMessage>(ServerFrameReader.Read(frame.AsSpan(..^1)));
        Assert.Equal((1, true, 4L), (read.Peer, read.More, read.Messages.Single().Push.Seq));
    }

    [Fact]
    public void A_failed_history_is_answered_by_history_ack_with_or_without_cid()
    {
        var failed = Reply.Fail(ErrorCode.NotMember, "no");

        Assert.Equal("""{"msgid":16,"errno":7,"errmsg":"no"}""" + "\n", Encoding.UTF8.GetString(ServerFrames.Reply(MsgId.History, null, failed)!));
        Assert.Equal("""{"msgid":16,"errno":7,"errmsg":"no","cid":"h"}""" + "\n", Encoding.UTF8.GetString(ServerFrames.Reply(MsgId.History, Cid.From("h"), failed)!));
    }

    [Fact]
    public void Read_notices_and_member_gone_pushes_have_the_designs_shape_and_read_back()
    {
        var direct = ServerFrames.ReadNotice(3, 3, null, 12);
        var group = ServerFrames.ReadNotice(3, null, 8, 40);
        var removed = ServerFrames.MemberGone(8, 3, by: 1);
        var left = ServerFrames.MemberGone(8, 3, by: null);

        Assert.Equal("""{"msgid":18,"id":3,"peer":3,"seq":12}""" + "\n", Encoding.UTF8.GetString(direct));
        Assert.Equal("""{"msgid":18,"id":3,"groupid":8,"seq":40}""" + "\n", Encoding.UTF8.GetString(group));
        Assert.Equal("""{"msgid":22,"groupid":8,"userid":3,"by":1}""" + "\n", Encoding.UTF8.GetString(removed));
        Assert.Equal("""{"msgid":21,"groupid":8,"userid":3}""" + "\n", Encoding.UTF8.GetString(left));
        Assert.Equal(new ReadNoticeMessage(3, null, 8, 40), ServerFrameReader.Read(group.AsSpan(..^1)));
        Assert.Equal(new MemberGoneMessage(MsgId.RemoveMember, 8, 3, 1), ServerFrameReader.Read(removed.AsSpan(..^1)));
    }

    [Fact]
    public void V2_login_ack_convs_carry_the_read_mark_and_unread_count()
    {
        var ack = new LoginAck(1, "a", [], [], [], [new ConversationEntry(2, null, 9, 4, 3), new ConversationEntry(null, 5, 7, 7, 0)], More: false);
        var frame = ServerFrames.LoginOk(ack, objects: true, cid: null);

        Assert.Contains("""
            "convs":[{"peer":2,"seq":9,"read":4,"unread":3},{"groupid":5,"seq":7,"read":7,"unread":0}]
            """, Encoding.UTF8.GetString(frame), StringComparison.Ordinal);
        var read = Assert.IsType<LoginAckMessage>(ServerFrameReader.Read(frame.AsSpan(..^1)));
        Assert.Equal(ack.Conversations, read.Conversations);
    }

    private static Request Parse(string json)
    {
        Assert.True(RequestReader.TryParse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), out var request, out var error), error?.Message);
        return request;
    }
}
