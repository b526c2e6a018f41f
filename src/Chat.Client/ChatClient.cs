using System.Globalization;
using Chat.Protocol;
using Chat.Sdk;

namespace Chat.Client;

/// <summary>
/// The seed client's flow over one server connection: a menu (login, register, quit), then commands until
/// <c>loginout</c>. Frames from the server are handled by a receive loop as they arrive. Every request carries a
/// cid and stays pending until its answer; when the connection drops while logged in, the client reconnects, logs
/// in again with <c>resume</c> (the last seq seen per conversation) and resends what was not acknowledged.
/// </summary>
public sealed partial class ChatClient(ClientOptions options, TextReader input, Printer printer, TimeProvider clock)
{
    private static readonly string[] Menu =
    [
        "========================",
        "1. login",
        "2. register",
        "3. quit",
        "========================",
        "choice:",
    ];

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Pending> _pending = [];
    private readonly SeenSeqs _seen = new();
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private readonly TaskCompletionSource _gaveUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _requests;
    private ChatLink? _connection;
    private Credentials? _login;
    private bool _online;
    private bool _quitting;
    private bool _reconnecting;
    private Task<string?>? _reading;

    /// <summary>Runs until the user quits or stdin ends (exit code 0), or the server cannot be reached (1).</summary>
    public async Task<int> RunAsync()
    {
        if (!await EnsureConnectedAsync(attempts: 1))
        {
            return 1;
        }

        while (true)
        {
            printer.Lines(Menu);
            var choice = await ReadLineAsync();
            var keepGoing = choice?.Trim() switch
            {
                null or "3" => false,
                "1" => await LoginAsync(),
                "2" => await RegisterAsync(),
                _ => Invalid(),
            };
            if (!keepGoing)
            {
                break;
            }
        }

        await QuitAsync();
        return _gaveUp.Task.IsCompleted ? 1 : 0;
    }

    private bool Invalid()
    {
        printer.Line("invalid input!");
        return true;
    }

    private async Task<bool> RegisterAsync()
    {
        printer.Line("username:");
        if (await ReadLineAsync() is not { } name)
        {
            return false;
        }

        printer.Line("userpassword:");
        if (await ReadLineAsync() is not { } password)
        {
            return false;
        }

        if (!await EnsureConnectedAsync())
        {
            return false;
        }

        var reply = await AnswerAsync(Submit(new RegisterRequest(name, password), resend: false));
        if (reply is null)
        {
            printer.Line("error: no answer from the server");
        }
        else if (!reply.Succeeded)
        {
            printer.Line(Format.Error(reply));
        }
        else
        {
            printer.Line($"{name} register success, userid is {(reply as RegAckMessage)?.Id}, do not forget it!");
        }

        return true;
    }

    private async Task<bool> LoginAsync()
    {
        printer.Line("userid:");
        if (await ReadLineAsync() is not { } idText)
        {
            return false;
        }

        printer.Line("userpassword:");
        if (await ReadLineAsync() is not { } password)
        {
            return false;
        }

        if (!int.TryParse(idText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            printer.Line("error: the userid is a number");
            return true;
        }

        if (!await EnsureConnectedAsync())
        {
            return false;
        }

        var credentials = new Credentials(id, password);
        var login = Submit(credentials.Login([]), resend: false, ack => LoggedIn(credentials, ack));
        var reply = await AnswerAsync(login);
        if (reply is null)
        {
            printer.Line("error: no answer from the server");
            return true;
        }

        return !reply.Succeeded || await CommandsAsync();
    }

    /// <summary>The logged-in prompt; false when stdin ended (or the connection is lost for good).</summary>
    private async Task<bool> CommandsAsync()
    {
        while (await ReadLineAsync() is { } line)
        {
            switch (Command.Parse(line))
            {
                case null:
                    break;
                case Command.Help:
                    printer.Lines(Command.Usage);
                    break;
                case Command.Invalid invalid:
                    printer.Line($"error: {invalid.Reason}");
                    break;
                case Command.LoginOut:
                    await LogOutAsync();
                    return true;
                case Command.SendFile file:
                    await SendFileAsync(file);
                    break;
                case Command.GetFile file:
                    await GetFileAsync(file);
                    break;
                case Command.Profile profile:
                    await SetProfileAsync(profile);
                    break;
                case var command:
                    Send(command);
                    break;
            }
        }

        return false;
    }

    private void Send(Command command)
    {
        var time = Format.Now(clock);
        _ = command switch
        {
            Command.Chat c => Submit(new OneChatRequest(c.FriendId, c.Message, time), resend: true, Sent),
            Command.GroupChat g => Submit(new GroupChatRequest(g.GroupId, g.Message, time), resend: true, Sent),
            Command.AddFriend f => Submit(new AddFriendRequest(f.FriendId), resend: true, ack => Done(ack, $"friend {f.FriendId} added")),
            Command.CreateGroup g => Submit(new CreateGroupRequest(g.Name, g.Description), resend: true,
                ack => Done(ack, $"group {g.Name} created, groupid {(ack as AckMessage)?.GroupId}")),
            Command.AddGroup g => Submit(new JoinGroupRequest(g.GroupId), resend: true, ack => Done(ack, $"joined group {g.GroupId}")),
            Command.Typing t => Submit(t.IsGroup ? new TypingRequest(null, t.TargetId) : new TypingRequest(t.TargetId, null), resend: false, Failed),
            Command.History h => Submit(new HistoryRequest(h.IsGroup ? null : h.TargetId, h.IsGroup ? h.TargetId : null, h.Before), resend: true, PrintHistory),
            Command.Read r => Submit(new ReadRequest(r.IsGroup ? null : r.TargetId, r.IsGroup ? r.TargetId : null, r.Seq), resend: true,
                ack => Done(ack, $"{(r.IsGroup ? "group" : "chat")} {r.TargetId} read up to seq {r.Seq}")),
            Command.LeaveGroup g => Submit(new LeaveGroupRequest(g.GroupId), resend: true, ack => Done(ack, $"left group {g.GroupId}")),
            Command.RemoveMember m => Submit(new RemoveMemberRequest(m.GroupId, m.UserId), resend: true,
                ack => Done(ack, $"removed {m.UserId} from group {m.GroupId}")),
            Command.RemoveFriend f => Submit(new RemoveFriendRequest(f.FriendId), resend: true, ack => Done(ack, $"friend {f.FriendId} removed")),
            Command.Reply { IsGroup: false } r => Submit(new OneChatRequest(r.TargetId, r.Message, time) { Reply = r.Seq }, resend: true, Sent),
            Command.Reply r => Submit(new GroupChatRequest(r.TargetId, r.Message, time) { Reply = r.Seq }, resend: true, Sent),
            Command.Edit e => Submit(new EditRequest(e.IsGroup ? null : e.TargetId, e.IsGroup ? e.TargetId : null, e.Seq, e.Message), resend: true,
                ack => Done(ack, $"edited seq {e.Seq}")),
            Command.Recall r => Submit(new RecallRequest(r.IsGroup ? null : r.TargetId, r.IsGroup ? r.TargetId : null, r.Seq), resend: true,
                ack => Done(ack, $"recalled seq {r.Seq}")),
            Command.React r => Submit(new ReactRequest(r.IsGroup ? null : r.TargetId, r.IsGroup ? r.TargetId : null, r.Seq, r.Emoji, r.On), resend: true,
                ack => Done(ack, r.On ? $"reacted {r.Emoji} to seq {r.Seq}" : $"took back {r.Emoji} on seq {r.Seq}")),
            Command.Find f => Submit(new FindRequest(f.Query), resend: true, PrintFound),
            Command.Block b => Submit(new BlockRequest(b.UserId, b.On), resend: true, ack => Done(ack, $"user {b.UserId} {(b.On ? "blocked" : "unblocked")}")),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command, "not a request"),
        };
    }

    private async Task LogOutAsync()
    {
        var reply = await AnswerAsync(Submit(new LogoutRequest(), resend: true));
        lock (_gate)
        {
            _login = null;
            _online = false;
            _seen.Clear();
        }

        printer.Line(reply is { Succeeded: false } ? Format.Error(reply) : "logged out");
    }

    private void Sent(Answer ack) => Done(ack, $"sent (seq {(ack as AckMessage)?.Seq})");

    private void Done(Answer ack, string success) => printer.Line(ack.Succeeded ? success : Format.Error(ack));

    /// <summary>Says nothing unless the request failed (TYPING: a relayed or dropped one looks the same).</summary>
    private void Failed(Answer ack)
    {
        if (!ack.Succeeded)
        {
            printer.Line(Format.Error(ack));
        }
    }

    private void PrintHistory(Answer answer)
    {
        if (answer is HistoryAckMessage { Succeeded: true } page)
        {
            printer.Lines(Format.History(page));
        }
        else
        {
            printer.Line(Format.Error(answer));
        }
    }

    /// <summary>The first LOGIN_ACK of a login: the user, friends, groups, then the offline messages.</summary>
    private void LoggedIn(Credentials credentials, Answer answer)
    {
        if (answer is not LoginAckMessage { Succeeded: true } ack)
        {
            printer.Line(Format.Error(answer));
            return;
        }

        credentials.Token = ack.Token;
        lock (_gate)
        {
            _login = credentials;
            _online = true;
            _seen.Clear();
        }

        printer.Lines(Format.LoginSummary(ack));
        printer.Lines(Format.Unread(ack));
        PrintOffline(ack);
    }

    /// <summary>The LOGIN_ACK after a reconnect: what was missed, then the requests that never got their answer.</summary>
    private void Resumed(ChatLink connection, Credentials credentials, Answer answer)
    {
        if (answer is not LoginAckMessage { Succeeded: true } ack)
        {
            return;
        }

        credentials.Token = ack.Token ?? credentials.Token;
        PrintOffline(ack);
        printer.Line("reconnected");
        lock (_gate)
        {
            _online = true;
            foreach (var pending in _pending.Values.Where(p => p.Resend).OrderBy(p => p.Number))
            {
                connection.Send(pending.Request);
            }
        }
    }

    private void PrintOffline(LoginAckMessage ack)
    {
        foreach (var entry in ack.OfflineEntries.Count > 0 ? ack.OfflineEntries : ack.Offline)
        {
            if (entry is ChatReceived chat)
            {
                PrintChat(chat.Push);
            }
            else if (entry is LogEventReceived e)
            {
                PrintEvent(e.Push);
            }
        }
    }

    /// <summary>An edit, recall or reaction, unless its seq was seen already (it names its message by seq).</summary>
    private void PrintEvent(in EventPush e)
    {
        lock (_gate)
        {
            if (!_seen.TryAccept(Conversation.Of(e, _login?.Id ?? 0), e.Seq))
            {
                return;
            }
        }

        printer.Line(Format.Event(e));
    }

    /// <summary>Prints a chat message unless its seq was seen already in its conversation (a seed server sends no seq).</summary>
    private void PrintChat(in ChatPush chat)
    {
        lock (_gate)
        {
            if (chat.Seq > 0 && !_seen.TryAccept(Conversation.Of(chat, _login?.Id ?? 0), chat.Seq))
            {
                return;
            }
        }

        printer.Line(Format.Chat(chat));
    }

    /// <summary>Waits (bounded) for the answers still due, then closes the connection.</summary>
    private async Task QuitAsync()
    {
        Task[] due;
        lock (_gate)
        {
            due = [.. _pending.Values.Select(p => p.Answer.Task)];
        }

        var all = Task.WhenAll(due);
        if (await Task.WhenAny(all, _gaveUp.Task, Task.Delay(options.QuitDeadline)) != all)
        {
            printer.Line($"quitting without an answer to {due.Count(t => !t.IsCompleted)} request(s)");
        }

        ChatLink? connection;
        lock (_gate)
        {
            _quitting = true;
            connection = _connection;
            _connection = null;
        }

        if (connection is not null)
        {
            await connection.DisposeAsync();
        }
    }

    /// <summary>The next line of input; null at its end, or when the connection is lost for good.</summary>
    private async Task<string?> ReadLineAsync()
    {
        // One read at a time, on a thread of its own: Console.In blocks even in ReadLineAsync.
        _reading ??= Task.Run(input.ReadLine);
        if (await Task.WhenAny(_reading, _gaveUp.Task) != _reading)
        {
            return null;
        }

        var line = await _reading;
        _reading = null;
        return line;
    }

    /// <summary>Who this client logs in as: the password typed, and the session token a v2 LOGIN_ACK gave, used first.</summary>
    private sealed class Credentials(int id, string password)
    {
        private string? _token;

        public int Id { get; } = id;

        /// <summary>Reconnects log in with this (no password check on the server) until it is refused.</summary>
        public string? Token
        {
            get => Volatile.Read(ref _token);
            set => Volatile.Write(ref _token, value);
        }

        /// <summary>LOGIN with <c>"v":2</c>, the token if there is one, and <c>resume</c> when the client has seen messages before.</summary>
        public LoginRequest Login(IReadOnlyList<ResumePoint> resume) => Token is { } token
            ? new(Id, null, Version: 2, resume.Count == 0 ? null : resume) { Token = token }
            : new(Id, password, Version: 2, resume.Count == 0 ? null : resume);
    }
}
