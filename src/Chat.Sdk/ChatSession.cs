using System.Collections.Concurrent;
using Chat.Protocol;

namespace Chat.Sdk;

/// <summary>
/// A user's session with a Chat cluster: connects (TCP or WebSocket), logs in by password or token, sends with a cid
/// (the ACK says the message is stored), and raises typed events for what the server pushes. When the link breaks it
/// reconnects with jittered exponential backoff, logs in again by token with <c>resume</c> (the last seq it saw in each
/// conversation), delivers what was missed in order, drops repeats by seq, and resends the chat messages whose ACK never
/// came with their original cid (the server stores them once). Events are raised on the session's receive loop: keep
/// handlers short.
/// </summary>
/// <example>
/// <code>
/// await using var chat = new ChatSession(new Uri("tcp://127.0.0.1:8000"));
/// chat.Message += m => Console.WriteLine($"{m.SenderName}: {m.Msg}");
/// await chat.LoginAsync(7, password: "secret");
/// var stored = await chat.SendAsync(8, "hello");
/// Console.WriteLine($"stored as seq {stored.Seq}");
/// </code>
/// </example>
public sealed class ChatSession(Uri endpoint, ChatSessionOptions? options = null) : IAsyncDisposable
{
    private readonly ChatSessionOptions _options = options ?? new ChatSessionOptions();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Answer>> _pending = new();
    private readonly ConcurrentDictionary<string, (Request Request, TaskCompletionSource<Answer> Done)> _unacked = new();
    private readonly SeenSeqs _seen = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private TaskCompletionSource _loggedIn = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ChatLink? _link;
    private (int Id, string? Password)? _credentials;
    private long _cids;

    /// <summary>A chat message (ONE_CHAT or GROUP_CHAT) to the user: each seq of a conversation once, in order.</summary>
    public event Action<ChatPush>? Message;

    /// <summary>
    /// Anything else the server pushes: PRESENCE, TYPING, READ_NOTICE, group joins and departures, ERROR, and types this
    /// library does not know yet. After ERROR errno 12 (replaced by a newer login) the session does not reconnect.
    /// </summary>
    public event Action<ServerMessage>? Pushed;

    /// <summary>Each LOGIN_ACK: the first, and the one after every reconnect.</summary>
    public event Action<LoginAckMessage>? LoggedIn;

    /// <summary>The link broke (false) or is logged in again (true).</summary>
    public event Action<bool>? Online;

    /// <summary>The user's id once logged in.</summary>
    public int? UserId { get; private set; }

    /// <summary>The session token of the last LOGIN_ACK: keep it instead of the password.</summary>
    public string? Token { get; private set; }

    /// <summary>Registers a user; returns the new id.</summary>
    public async Task<int> RegisterAsync(string name, string password, CancellationToken ct = default)
    {
        await EnsureLinkAsync(ct);
        var ack = (RegAckMessage)Expect(await RequestAsync(new RegisterRequest(name, password), ct));
        return ack.Id ?? throw new ChatException(ack);
    }

    /// <summary>
    /// Logs in with a password or a token (v2). From then on a broken link is reopened and the login repeated by token,
    /// resuming from the last seqs seen (with the password if the token is refused).
    /// </summary>
    public async Task<LoginAckMessage> LoginAsync(int id, string? password = null, string? token = null, CancellationToken ct = default)
    {
        if (password is null && token is null)
        {
            throw new ArgumentException("a password or a token", nameof(password));
        }

        await EnsureLinkAsync(ct);
        Token = token;
        var ack = await LoginOnLinkAsync(id, password, ct);
        _credentials = (id, password);
        return ack;
    }

    /// <summary>Sends a one-to-one message; completes with its ACK (seq and ts) once it is stored.</summary>
    public Task<AckMessage> SendAsync(int peer, string text, CancellationToken ct = default) =>
        ChatAsync(new OneChatRequest(peer, text), new Conversation(false, peer), ct);

    /// <summary>Sends a group message; completes with its ACK once it is stored.</summary>
    public Task<AckMessage> SendToGroupAsync(int groupId, string text, CancellationToken ct = default) =>
        ChatAsync(new GroupChatRequest(groupId, text), new Conversation(true, groupId), ct);

    /// <summary>Any request, with a fresh cid: its answer (ACK, HISTORY_ACK, ...). A refusal throws <see cref="ChatException"/>.</summary>
    public async Task<Answer> RequestAsync(Request request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var cid = request.Cid?.Text ?? NextCid();
        var done = new TaskCompletionSource<Answer>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[cid] = done;
        if (_link is not { } link || !link.Send(request with { Cid = Cid.From(cid) }))
        {
            _pending.TryRemove(cid, out _);
            throw new ChatException("not connected");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _closing.Token);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            return Expect(await done.Task.WaitAsync(timeout.Token));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ChatException("the server did not answer");
        }
        finally
        {
            _pending.TryRemove(cid, out _);
        }
    }

    /// <summary>Logs out; with <paramref name="all"/> every session token of the user is revoked too. The link stays open.</summary>
    public async Task LogoutAsync(bool all = false, CancellationToken ct = default)
    {
        _credentials = null;
        _loggedIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await RequestAsync(new LogoutRequest { All = all }, ct);
    }

    /// <summary>The highest seq seen in a conversation (a peer, or a group); 0 when none.</summary>
    public long Seen(int? peer = null, int? groupId = null) =>
        _seen.Last(groupId is { } g ? new Conversation(true, g) : new Conversation(false, peer ?? throw new ArgumentNullException(nameof(peer))));

    /// <summary>Breaks the link as a network failure would: the session reconnects and resumes by itself.</summary>
    public void Drop() => _link?.Abort();

    public async ValueTask DisposeAsync()
    {
        _credentials = null;
        await _closing.CancelAsync();
        if (_link is { } link)
        {
            await link.DisposeAsync();
        }

        _closing.Dispose();
        _connecting.Dispose();
    }

    private async Task<AckMessage> ChatAsync(Request request, Conversation conversation, CancellationToken ct)
    {
        await _loggedIn.Task.WaitAsync(ct);
        var cid = NextCid();
        var sent = request with { Cid = Cid.From(cid) };
        var done = new TaskCompletionSource<Answer>(TaskCreationOptions.RunContinuationsAsynchronously);
        _unacked[cid] = (sent, done);
        _pending[cid] = done;
        _link?.Send(sent); // lost with the link: sent again, same cid, after the next login
        var ack = (AckMessage)Expect(await done.Task.WaitAsync(ct));
        _seen.Note(conversation, ack.Seq ?? 0);
        return ack;
    }

    private static Answer Expect(Answer answer) => answer.Succeeded ? answer : throw new ChatException(answer);

    private string NextCid() => "s" + Interlocked.Increment(ref _cids).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task EnsureLinkAsync(CancellationToken ct)
    {
        await _connecting.WaitAsync(ct);
        try
        {
            if (_link is null)
            {
                _link = await ChatLink.ConnectAsync(endpoint, _options.Heartbeat, ct);
                _ = ReceiveLoopAsync(_link);
            }
        }
        finally
        {
            _connecting.Release();
        }
    }

    private async Task<LoginAckMessage> LoginOnLinkAsync(int id, string? password, CancellationToken ct)
    {
        var resume = _seen.ResumePoints();
        var login = Token is { } token
            ? new LoginRequest(id, null, 2, resume) { Token = token }
            : new LoginRequest(id, password, 2, resume);
        var ack = (LoginAckMessage)await RequestAsync(login, ct); // its missed messages were raised by the receive loop
        _loggedIn.TrySetResult();
        foreach (var (cid, (request, done)) in _unacked)
        {
            _pending[cid] = done;
            _link?.Send(request);
        }

        return ack;
    }

    private async Task ReceiveLoopAsync(ChatLink link)
    {
        while (await link.ReceiveAsync() is { } frame)
        {
            Receive(frame);
        }

        await LostAsync(link);
    }

    private void Receive(ServerMessage frame)
    {
        switch (frame)
        {
            case LoginAckMessage { Succeeded: true, Cid: { } loginCid } ack:
                // Here, not after the login's await: a live push read right after the LOGIN_ACK must not overtake what it missed.
                (UserId, Token) = (ack.Id, ack.Token ?? Token);
                foreach (var message in ack.Offline)
                {
                    Receive(message);
                }

                LoggedIn?.Invoke(ack);
                Answered(loginCid.Text, ack);
                break;
            case Answer { Cid: { } cid } answer:
                Answered(cid.Text, answer);
                break;
            case ChatReceived { Push: var push } when push.Seq > 0:
                if (_seen.TryAccept(Conversation.Of(push, UserId ?? 0), push.Seq))
                {
                    Message?.Invoke(push);
                }

                break;
            case ChatReceived { Push: var push }:
                Message?.Invoke(push); // a server that numbers nothing (the seed's)
                break;
            case PongMessage { Cid: null }:
                break; // the answer to the link's heartbeat
            case ErrorMessage { Errno: ErrorCode.Replaced }:
                _credentials = null; // a newer login took over (Chat:Login:Multiple=replace): reconnecting would take it back
                Pushed?.Invoke(frame);
                break;
            default:
                Pushed?.Invoke(frame);
                break;
        }
    }

    private void Answered(string cid, Answer answer)
    {
        _unacked.TryRemove(cid, out _);
        if (_pending.TryRemove(cid, out var waiter))
        {
            waiter.TrySetResult(answer); // else nobody waits for it any more (a resend's second ACK, a request that timed out)
        }
    }

    /// <summary>The link broke: answers still owed fail (chat sends wait for their resend); logged in, reconnect and log in again.</summary>
    private async Task LostAsync(ChatLink link)
    {
        await link.DisposeAsync();
        _link = null;
        _loggedIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var (cid, waiter) in _pending)
        {
            if (!_unacked.ContainsKey(cid) && _pending.TryRemove(cid, out _))
            {
                waiter.TrySetException(new ChatException("connection lost"));
            }
        }

        if (_closing.IsCancellationRequested || _credentials is not { } credentials)
        {
            return;
        }

        Online?.Invoke(false);
        for (var attempt = 0; !_closing.IsCancellationRequested && _credentials is not null; attempt++)
        {
            var ceiling = Math.Min(_options.BackoffMax.TotalMilliseconds, _options.BackoffFirst.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20)));
            await Task.Delay(TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2), _closing.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                await EnsureLinkAsync(_closing.Token);
                await LoginOnLinkAsync(credentials.Id, credentials.Password, _closing.Token);
                Online?.Invoke(true);
                return;
            }
            catch (ChatException ex) when (ex.Errno == ErrorCode.Invalid && Token is not null && credentials.Password is not null)
            {
                Token = null; // revoked or expired: the password next time
            }
            catch (Exception ex) when (ex is ChatException or IOException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException or OperationCanceledException)
            {
                // not back yet: the next attempt
            }

            _link?.Abort();
        }
    }
}

/// <summary>Timing of a <see cref="ChatSession"/>.</summary>
public sealed class ChatSessionOptions
{
    /// <summary>How long a request waits for its answer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The first reconnect waits up to this long (jittered), doubling each time.</summary>
    public TimeSpan BackoffFirst { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between reconnects.</summary>
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After this long without sending anything the session sends PING, so the server's idle timeout (5 min by default)
    /// and a balancer's never close a connection that is merely quiet; null: no heartbeat.
    /// </summary>
    public TimeSpan? Heartbeat { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>A request the server refused (<see cref="Errno"/>), or that could not be made.</summary>
public sealed class ChatException : Exception
{
    public ChatException(Answer answer)
        : base(answer?.ErrMsg ?? $"error {answer?.Errno}") => Errno = answer?.Errno;

    public ChatException(string message)
        : base(message)
    {
    }

    public ChatException()
    {
    }

    public ChatException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>The server's errno; null when the request never got an answer.</summary>
    public ErrorCode? Errno { get; }
}
