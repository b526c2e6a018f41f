using System.Net.Sockets;
using Chat.Protocol;
using Chat.Sdk;

namespace Chat.Client;

/// <summary>
/// The client's side of the connection: requests pending by cid, the receive loop, and reconnecting with resume. The
/// connection itself (the writer queue, the read loop, the idle PING) is Chat.Sdk's <see cref="ChatLink"/>.
/// </summary>
public sealed partial class ChatClient
{
    /// <summary>
    /// Registers a request under a fresh cid and sends it if it can go now: LOGIN and REG whenever connected, the
    /// rest only while logged in (otherwise a reconnect sends it after the new login, when <paramref name="resend"/>).
    /// </summary>
    private Pending Submit(Request request, bool resend, Action<Answer>? onAnswer = null)
    {
        Pending pending;
        lock (_gate)
        {
            var number = ++_requests;
            var cid = $"{_run}-{number}";
            pending = new Pending(cid, number, request with { Cid = Cid.From(cid) }, resend, onAnswer);
            _pending[cid] = pending;
            if (request.MsgId is MsgId.Login or MsgId.Reg || _online)
            {
                if (_connection is { } connection)
                {
                    connection.Send(pending.Request);
                    return pending;
                }

                // The connection closed before this went out (a reconnect whose socket the other end dropped at once):
                // unanswered now, not after the reply timeout, so that the next attempt is not held up.
                _pending.Remove(cid);
            }
            else if (resend)
            {
                printer.Line("not connected: it goes out after reconnecting");
                return pending;
            }
            else
            {
                // Not sent again after a reconnect (typing): said so, and not kept.
                _pending.Remove(cid);
                printer.Line("not connected");
            }
        }

        pending.Answer.TrySetResult(null);
        return pending;
    }

    /// <summary>The answer to <paramref name="pending"/>, or null when none came in time or the connection closed.</summary>
    private async Task<Answer?> AnswerAsync(Pending pending)
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

    private async Task ReceiveLoopAsync(ChatLink connection)
    {
        while (await connection.ReceiveAsync() is { } message)
        {
            Handle(message);
        }

        await ClosedAsync(connection);
    }

    private void Handle(ServerMessage message)
    {
        switch (message)
        {
            case ChatReceived chat:
                PrintChat(chat.Push);
                break;
            case ErrorMessage { Errno: ErrorCode.Replaced } replaced:
                Replaced(replaced);
                break;
            case ErrorMessage error:
                printer.Line(Format.Error(error));
                break;
            case AckMessage or LoginAckMessage or RegAckMessage or HistoryAckMessage:
                Answered((Answer)message);
                break;
            case TypingMessage typing:
                printer.Line(Format.Typing(typing));
                break;
            case PresenceMessage presence:
                printer.Line(Format.Presence(presence));
                break;
            case ReadNoticeMessage notice:
                printer.Line(Format.ReadNotice(notice, _login?.Id ?? 0));
                break;
            case MemberGoneMessage gone:
                printer.Line(Format.MemberGone(gone, _login?.Id ?? 0));
                break;
            case MemberJoinedMessage joined:
                printer.Line(Format.MemberJoined(joined));
                break;
            case LogEventReceived logEvent:
                PrintEvent(logEvent.Push);
                break;
            case ProfileMessage profile:
                printer.Line($"[{profile.Id}] about: {profile.About}{(profile.Avatar.Length > 0 ? $" (avatar get-file:{profile.Avatar})" : "")}");
                break;
        }
    }

    /// <summary>A newer login of the user took over (<c>Chat:Login:Multiple=replace</c>): no reconnecting, which would take it back.</summary>
    private void Replaced(ErrorMessage error)
    {
        lock (_gate)
        {
            _login = null;
        }

        printer.Line(Format.Error(error));
        _gaveUp.TrySetResult();
    }

    private void Answered(Answer answer)
    {
        Pending? pending = null;
        if (answer.Cid is { IsNumber: false } cid)
        {
            lock (_gate)
            {
                _pending.Remove(cid.Text, out pending);
            }
        }

        if (pending is null)
        {
            if (!answer.Succeeded)
            {
                printer.Line(Format.Error(answer));
            }

            return;
        }

        pending.OnAnswer?.Invoke(answer);
        pending.Answer.TrySetResult(answer);
    }

    private async Task ClosedAsync(ChatLink connection)
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
            await Task.Delay(Backoff.Jittered(delay));
            delay = Backoff.Longer(delay, options.MaxConnectDelay);
            if (await TryConnectAsync() is not { } connection)
            {
                continue;
            }

            IReadOnlyList<ResumePoint>? resume = null;
            lock (_gate)
            {
                if (!_quitting && _login == login)
                {
                    _connection = connection;
                    resume = _seen.ResumePoints();
                }
            }

            if (resume is null)
            {
                // Logged out or quitting meanwhile: nothing to resume.
                await connection.DisposeAsync();
                return true;
            }

            _ = ReceiveLoopAsync(connection);
            var request = login.Login(resume);
            var reply = await AnswerAsync(Submit(request, resend: false, ack => Resumed(connection, login, ack)));
            if (reply is { Succeeded: true })
            {
                return true;
            }

            if (reply is { Errno: ErrorCode.Invalid } && request.Token is not null)
            {
                // Expired or revoked (LOGINOUT all elsewhere): the password, at the next attempt.
                login.Token = null;
            }
            else if (reply is { Errno: ErrorCode.Invalid })
            {
                printer.Line(Format.Error(reply));
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
    private async Task<bool> EnsureConnectedAsync(int? attempts = null)
    {
        lock (_gate)
        {
            if (_connection is not null)
            {
                return true;
            }
        }

        var delay = options.FirstConnectDelay;
        for (var attempt = 0; attempt < (attempts ?? options.ConnectAttempts); attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(Backoff.Jittered(delay));
                delay = Backoff.Longer(delay, options.MaxConnectDelay);
            }

            if (await TryConnectAsync() is { } connection)
            {
                lock (_gate)
                {
                    _connection = connection;
                }

                _ = ReceiveLoopAsync(connection);
                return true;
            }
        }

        printer.Line($"error: cannot connect to {options.Host}:{options.Port}");
        return false;
    }

    private async Task<ChatLink?> TryConnectAsync()
    {
        using var timeout = new CancellationTokenSource(options.ReplyTimeout);
        try
        {
            return await ChatLink.ConnectAsync(options.Endpoint, options.Heartbeat, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or System.Net.WebSockets.WebSocketException or HttpRequestException)
        {
            return null;
        }
    }

    private sealed class Pending(string cid, long number, Request request, bool resend, Action<Answer>? onAnswer)
    {
        public string Cid { get; } = cid;

        public long Number { get; } = number;

        /// <summary>The request with its cid: sent again unchanged after a reconnect.</summary>
        public Request Request { get; } = request;

        /// <summary>Sent again with the same cid after a reconnect (the server applies a cid once).</summary>
        public bool Resend { get; } = resend;

        public Action<Answer>? OnAnswer { get; } = onAnswer;

        public TaskCompletionSource<Answer?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
