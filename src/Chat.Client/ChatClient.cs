using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Chat.Domain.Protocol;

namespace Chat.Client;

/// <summary>
/// The seed client's flow over one server connection: a menu (login, register, quit), then commands until
/// <c>loginout</c>. Frames from the server are handled by a receive loop as they arrive. Every request carries a
/// cid and stays pending until its answer; when the connection drops while logged in, the client reconnects, logs
/// in again with <c>resume</c> (the last seq seen per conversation) and resends what was not acknowledged.
/// </summary>
public sealed class ChatClient(ClientOptions options, TextReader input, Printer printer, TimeProvider clock)
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
    private ServerConnection? _connection;
    private Credentials? _login;
    private bool _online;
    private bool _quitting;
    private bool _reconnecting;
    private Task<string?>? _reading;

    /// <summary>Runs until the user quits or stdin ends (exit code 0), or the server cannot be reached (1).</summary>
    public async Task<int> RunAsync()
    {
        if (!await EnsureConnectedAsync())
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

        var reply = await AnswerAsync(Submit(MsgId.Reg, cid => Requests.Register(cid, name, password), resend: false));
        if (reply is not { } ack)
        {
            printer.Line("error: no answer from the server");
        }
        else if (Format.Errno(ack) != 0)
        {
            printer.Line(Format.Error(ack));
        }
        else
        {
            printer.Line($"{name} register success, userid is {ack.GetProperty("id").GetInt32()}, do not forget it!");
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
        var login = Submit(MsgId.Login, cid => Requests.Login(cid, id, password, []), resend: false, ack => LoggedIn(credentials, ack));
        var reply = await AnswerAsync(login);
        if (reply is null)
        {
            printer.Line("error: no answer from the server");
            return true;
        }

        return Format.Errno(reply.Value) != 0 || await CommandsAsync();
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
            Command.Chat c => Submit(MsgId.OneChat, cid => Requests.OneChat(cid, c.FriendId, c.Message, time), resend: true, Sent),
            Command.GroupChat g => Submit(MsgId.GroupChat, cid => Requests.GroupChat(cid, g.GroupId, g.Message, time), resend: true, Sent),
            Command.AddFriend f => Submit(MsgId.AddFriend, cid => Requests.AddFriend(cid, f.FriendId), resend: true,
                ack => Done(ack, $"friend {f.FriendId} added")),
            Command.CreateGroup g => Submit(MsgId.CreateGroup, cid => Requests.CreateGroup(cid, g.Name, g.Description), resend: true,
                ack => Done(ack, $"group {g.Name} created, groupid {Format.Number(ack, "groupid")}")),
            Command.AddGroup g => Submit(MsgId.AddGroup, cid => Requests.AddGroup(cid, g.GroupId), resend: true,
                ack => Done(ack, $"joined group {g.GroupId}")),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command, "not a request"),
        };
    }

    private async Task LogOutAsync()
    {
        var reply = await AnswerAsync(Submit(MsgId.LoginOut, Requests.LoginOut, resend: true));
        lock (_gate)
        {
            _login = null;
            _online = false;
            _seen.Clear();
        }

        printer.Line(reply is { } ack && Format.Errno(ack) != 0 ? Format.Error(ack) : "logged out");
    }

    private void Sent(JsonElement ack) => Done(ack, $"sent (seq {Format.Seq(ack)})");

    private void Done(JsonElement ack, string success) => printer.Line(Format.Errno(ack) == 0 ? success : Format.Error(ack));

    /// <summary>The first LOGIN_ACK of a login: the user, friends, groups, then the offline messages.</summary>
    private void LoggedIn(Credentials credentials, JsonElement ack)
    {
        if (Format.Errno(ack) != 0)
        {
            printer.Line(Format.Error(ack));
            return;
        }

        lock (_gate)
        {
            _login = credentials;
            _online = true;
            _seen.Clear();
        }

        printer.Lines(Format.LoginSummary(ack));
        PrintOffline(ack);
    }

    /// <summary>The LOGIN_ACK after a reconnect: what was missed, then the requests that never got their answer.</summary>
    private void Resumed(ServerConnection connection, JsonElement ack)
    {
        if (Format.Errno(ack) != 0)
        {
            return;
        }

        PrintOffline(ack);
        printer.Line("reconnected");
        lock (_gate)
        {
            _online = true;
            foreach (var pending in _pending.Values.Where(p => p.Resend).OrderBy(p => p.Number))
            {
                connection.Send(pending.Frame);
            }
        }
    }

    private void PrintOffline(JsonElement ack)
    {
        foreach (var frame in Format.List(ack, "offlinemsg"))
        {
            PrintChat(frame);
        }
    }

    /// <summary>Prints a chat frame unless its seq was seen already in its conversation.</summary>
    private void PrintChat(JsonElement frame)
    {
        lock (_gate)
        {
            if (Format.Seq(frame) is { } seq && !_seen.TryAccept(Format.ConversationOf(frame, _login?.Id ?? 0), seq))
            {
                return;
            }
        }

        printer.Line(Format.Chat(frame));
    }

    /// <summary>
    /// Registers a request under a fresh cid and sends it if it can go now: LOGIN and REG whenever connected, the
    /// rest only while logged in (otherwise a reconnect sends it after the new login, when <paramref name="resend"/>).
    /// </summary>
    private Pending Submit(MsgId kind, Func<string, byte[]> build, bool resend, Action<JsonElement>? onAnswer = null)
    {
        lock (_gate)
        {
            var number = ++_requests;
            var cid = $"{_run}-{number}";
            var pending = new Pending(cid, number, build(cid), resend, onAnswer);
            _pending[cid] = pending;
            if (kind is MsgId.Login or MsgId.Reg || _online)
            {
                _connection?.Send(pending.Frame);
            }
            else
            {
                printer.Line("not connected: it goes out after reconnecting");
            }

            return pending;
        }
    }

    /// <summary>The answer to <paramref name="pending"/>, or null when none came in time or the connection closed.</summary>
    private async Task<JsonElement?> AnswerAsync(Pending pending)
    {
        try
        {
            return await pending.Answer.Task.WaitAsync(options.ReplyTimeout);
        }
        catch (TimeoutException)
        {
            lock (_gate)
            {
                _pending.Remove(pending.Cid);
            }

            return null;
        }
    }

    private async Task ReceiveLoopAsync(ServerConnection connection)
    {
        while (await connection.ReceiveAsync() is { } document)
        {
            using (document)
            {
                Handle(document.RootElement);
            }
        }

        await ClosedAsync(connection);
    }

    private void Handle(JsonElement frame)
    {
        switch (Format.MsgIdOf(frame))
        {
            case MsgId.OneChat or MsgId.GroupChat:
                PrintChat(frame);
                break;
            case MsgId.Ack or MsgId.LoginAck or MsgId.RegAck:
                Answered(frame);
                break;
            case MsgId.Error:
                printer.Line(Format.Error(frame));
                break;
        }
    }

    private void Answered(JsonElement frame)
    {
        Pending? pending = null;
        if (frame.TryGetProperty("cid", out var cid) && cid.ValueKind == JsonValueKind.String)
        {
            lock (_gate)
            {
                _pending.Remove(cid.GetString()!, out pending);
            }
        }

        if (pending is null)
        {
            if (Format.Errno(frame) != 0)
            {
                printer.Line(Format.Error(frame));
            }

            return;
        }

        var answer = frame.Clone();
        pending.OnAnswer?.Invoke(answer);
        pending.Answer.TrySetResult(answer);
    }

    private async Task ClosedAsync(ServerConnection connection)
    {
        await connection.DisposeAsync();
        Credentials? login;
        List<Pending> unanswerable;
        bool reconnect;
        lock (_gate)
        {
            if (_connection != connection)
            {
                return;
            }

            _connection = null;
            _online = false;
            login = _login;
            unanswerable = [.. _pending.Values.Where(p => !p.Resend)];
            foreach (var pending in unanswerable)
            {
                _pending.Remove(pending.Cid);
            }

            reconnect = login is not null && !_quitting && !_reconnecting;
            _reconnecting |= reconnect;
        }

        foreach (var pending in unanswerable)
        {
            pending.Answer.TrySetResult(null);
        }

        if (login is null)
        {
            printer.Line("connection closed by the server");
        }

        if (!reconnect)
        {
            return;
        }

        printer.Line("connection lost: reconnecting");
        while (await ReconnectAsync(login!))
        {
            lock (_gate)
            {
                // Lost again before this loop let go of it: ClosedAsync left the reconnecting to us.
                if (_connection is not null || _login is null || _quitting)
                {
                    _reconnecting = false;
                    return;
                }

                login = _login;
            }
        }

        lock (_gate)
        {
            _reconnecting = false;
        }

        printer.Line($"could not reconnect to {options.Host}:{options.Port}: giving up");
        _gaveUp.TrySetResult();
    }

    /// <summary>Connects again and logs in with the saved credentials and where each conversation stands.</summary>
    private async Task<bool> ReconnectAsync(Credentials login)
    {
        var delay = options.FirstConnectDelay;
        for (var attempt = 0; attempt < options.ConnectAttempts; attempt++)
        {
            await Task.Delay(delay);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxConnectDelay.Ticks));
            if (await TryConnectAsync() is not { } connection)
            {
                continue;
            }

            IReadOnlyCollection<ResumePoint> resume;
            lock (_gate)
            {
                if (_quitting || _login != login)
                {
                    return true;
                }

                _connection = connection;
                resume = _seen.ResumePoints();
            }

            _ = ReceiveLoopAsync(connection);
            var reply = await AnswerAsync(Submit(
                MsgId.Login,
                cid => Requests.Login(cid, login.Id, login.Password, resume),
                resend: false,
                ack => Resumed(connection, ack)));
            if (reply is { } ack && Format.Errno(ack) == 0)
            {
                return true;
            }

            if (reply is { } refused && Format.Errno(refused) == (int)ErrorCode.Invalid)
            {
                printer.Line(Format.Error(refused));
                return false;
            }

            // Not answered, or "already online" because the server has not yet noticed the old connection is gone.
            lock (_gate)
            {
                if (_connection == connection)
                {
                    _connection = null;
                }
            }

            connection.Abort();
        }

        return false;
    }

    /// <summary>Connects when there is no connection (at start, or after the server closed it at the menu).</summary>
    private async Task<bool> EnsureConnectedAsync()
    {
        lock (_gate)
        {
            if (_connection is not null)
            {
                return true;
            }
        }

        var delay = options.FirstConnectDelay;
        for (var attempt = 0; attempt < options.ConnectAttempts; attempt++)
        {
            if (await TryConnectAsync() is { } connection)
            {
                lock (_gate)
                {
                    _connection = connection;
                }

                _ = ReceiveLoopAsync(connection);
                return true;
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxConnectDelay.Ticks));
        }

        printer.Line($"error: cannot connect to {options.Host}:{options.Port}");
        return false;
    }

    private async Task<ServerConnection?> TryConnectAsync()
    {
        using var timeout = new CancellationTokenSource(options.ReplyTimeout);
        try
        {
            return await ServerConnection.ConnectAsync(options.Host, options.Port, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return null;
        }
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

        ServerConnection? connection;
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

    private sealed record Credentials(int Id, string Password);

    private sealed class Pending(string cid, long number, byte[] frame, bool resend, Action<JsonElement>? onAnswer)
    {
        public string Cid { get; } = cid;

        public long Number { get; } = number;

        public byte[] Frame { get; } = frame;

        /// <summary>Sent again with the same cid after a reconnect (the server applies a cid once).</summary>
        public bool Resend { get; } = resend;

        public Action<JsonElement>? OnAnswer { get; } = onAnswer;

        public TaskCompletionSource<JsonElement?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
