namespace Chat.Protocol;

/// <summary>Message types on the wire. 1–10 are the seed's values, unchanged; 11–14 are extensions; 15–26 go beyond the seed (DESIGN.md).</summary>
public enum MsgId
{
    Login = 1,
    LoginAck = 2,
    LoginOut = 3,
    Reg = 4,
    RegAck = 5,
    OneChat = 6,
    AddFriend = 7,
    CreateGroup = 8,
    AddGroup = 9,
    GroupChat = 10,
    Ack = 11,
    Error = 12,
    Ping = 13,
    Pong = 14,
    History = 15,
    HistoryAck = 16,
    Read = 17,
    ReadNotice = 18,
    Typing = 19,
    Presence = 20,
    LeaveGroup = 21,
    RemoveMember = 22,
    RemoveFriend = 23,

    // The conversation is a log (issue 21): events that take the conversation's next seq.
    Edit = 24,
    Recall = 25,
    React = 26,
    // People.
    Profile = 27,
    Find = 28,
    Block = 29,
}
