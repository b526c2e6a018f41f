using System.Globalization;
using System.Text.Json.Nodes;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Cluster;

/// <summary>What a <see cref="ChatLoad"/> run saw, message by message.</summary>
/// <param name="Sent">Messages a sender tried to send (a resend after a reconnect is not counted again).</param>
/// <param name="Accepted">Answered with ACK errno 0: durably stored, so they must all be delivered.</param>
/// <param name="Refused">Answered with ACK errno ≠ 0: the sender knows they were not taken.</param>
/// <param name="Unanswered">Neither, when the run ended.</param>
/// <param name="Delivered">Distinct messages the recipients got.</param>
/// <param name="Duplicates">Frames for a seq the recipient already had (at-least-once; dropped by seq).</param>
/// <param name="Lost">Accepted but never delivered: the figure that must be 0.</param>
/// <param name="Reconnects">Logins after the first, by senders and recipients.</param>
public sealed record LoadCounts(int Sent, int Accepted, int Refused, int Unanswered, int Delivered, int Duplicates, int Lost, int Reconnects)
{
    public override string ToString() =>
        $"sent={Sent} accepted={Accepted} refused={Refused} unanswered={Unanswered} delivered={Delivered} duplicates={Duplicates} lost={Lost} reconnects={Reconnects}";

    /// <summary>Appends the counts (and how long live delivery took to come back, if measured) to the file named by
    /// CHAT_TEST_REPORT (scripts/test.sh prints it), if set.</summary>
    public void Report(string test, TimeSpan? recovery = null)
    {
        if (Environment.GetEnvironmentVariable("CHAT_TEST_REPORT") is { Length: > 0 } path)
        {
            var measured = recovery is { } r ? $" recovery={r.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)}s" : "";
            File.AppendAllText(path, $"{test}: {this}{measured}{Environment.NewLine}");
        }
    }
}

/// <summary>
/// Pairs of users chatting under load through one port (nginx in the fault tests), counting every message so a test
/// can prove that nothing accepted was lost. A sender has one message in flight, numbered in its text and its cid;
/// after a dropped connection it logs in again and resends the same cid (the server stores it once). A recipient
/// keeps the seqs it has; after a drop it logs in again resuming from its last unbroken seq.
/// </summary>
public sealed class ChatLoad : IAsyncDisposable
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);
    private readonly int _port;
    private readonly int _receiverPort;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abandonSending = new();
    private readonly CancellationTokenSource _abandon = new();
    private readonly List<Pair> _pairs = [];
    private readonly List<Task> _loops = [];
    private int _sent, _refused, _reconnects;

    private ChatLoad(int port, int receiverPort, TimeSpan interval)
    {
        _port = port;
        _receiverPort = receiverPort;
        _interval = interval;
    }

    /// <summary>Messages accepted so far.</summary>
    public int Accepted => _pairs.Sum(p => p.AcceptedCount);

    /// <summary>Messages refused so far (ACK with an error).</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Chat frames that arrived on a live connection (not in a LOGIN_ACK).</summary>
    public int LiveDeliveries => _pairs.Sum(p => p.LiveCount);

    /// <summary>Logins after the first, by senders and recipients.</summary>
    public int Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>Each pair's sender and recipient user ids.</summary>
    public IReadOnlyList<(int Sender, int Recipient)> Users => [.. _pairs.Select(p => (p.Sender.Id, p.Receiver.Id))];

    /// <summary>The last error text a sender was answered with.</summary>
    public string? LastRefusal { get; private set; }

    /// <summary>Registers 2 × <paramref name="pairs"/> users through <paramref name="port"/> and starts them chatting,
    /// each sender pausing <paramref name="interval"/> between messages. Recipients connect to
    /// <paramref name="receiverPort"/> when given (e.g. another replica than the senders'), else to the same port.</summary>
    public static async Task<ChatLoad> StartAsync(int port, int pairs, TimeSpan interval, int? receiverPort = null)
    {
        var load = new ChatLoad(port, receiverPort ?? port, interval);
        await using (var setup = await TestClient.ConnectAsync(port))
        {
            for (var i = 0; i < pairs; i++)
            {
                var sender = await RegisterAsync(setup, "ls");
                var receiver = await RegisterAsync(setup, "lr");
                load._pairs.Add(new Pair(sender, receiver));
            }
        }

        // One user at a time, each logged in before the next connects: through a least_conn balancer each pair's two
        // users then land on different replicas, so every pair's chat crosses the bus.
        foreach (var pair in load._pairs)
        {
            load._loops.Add(load.ReceiveLoopAsync(pair));
            await Wait.UntilAsync(() => pair.ReceiverIn, TimeSpan.FromSeconds(30), $"receiver {pair.Receiver.Id} logged in");
            pair.Sending = load.SendLoopAsync(pair);
            load._loops.Add(pair.Sending);
            await Wait.UntilAsync(() => pair.AcceptedCount > 0, TimeSpan.FromSeconds(30), $"sender {pair.Sender.Id}'s first message accepted");
        }

        return load;
    }

    /// <summary>Waits until <paramref name="count"/> messages have been accepted in all.</summary>
    public Task WaitForAcceptedAsync(int count, TimeSpan timeout) =>
        Wait.UntilAsync(() => Accepted >= count, timeout, $"{count} accepted messages (now {Accepted}, refused {Refused}: {LastRefusal})");

    /// <summary>Waits until every recipient has received <paramref name="more"/> further messages live (not through a
    /// LOGIN_ACK): every pair's chat works again, whichever replicas its two users ended up on.</summary>
    public Task WaitForEveryPairLiveAsync(int more, TimeSpan timeout, string what)
    {
        var start = _pairs.Select(p => p.LiveCount).ToArray();
        return Wait.UntilAsync(
            () => _pairs.Select((p, i) => p.LiveCount - start[i] >= more).All(ok => ok),
            timeout,
            $"{what}: all {_pairs.Count} pairs delivering live again");
    }

    /// <summary>
    /// Stops sending, then waits (bounded) for every accepted message to reach its recipient; recipients still
    /// missing some log in again once, resuming from their last unbroken seq, to fetch them from the store.
    /// </summary>
    public async Task<LoadCounts> StopAsync(TimeSpan settle)
    {
        await _stop.CancelAsync();
        var senders = Task.WhenAll(_pairs.Select(p => p.Sending));
        if (await Task.WhenAny(senders, Task.Delay(AckTimeout * 3)) != senders)
        {
            // A sender that still cannot get its last message answered gives up: it counts as unanswered.
            await _abandonSending.CancelAsync();
            await senders;
        }

        if (!await AllDeliveredWithinAsync(settle))
        {
            foreach (var pair in _pairs.Where(p => p.Missing() > 0))
            {
                pair.ForceReconnect();
            }

            await AllDeliveredWithinAsync(settle);
        }

        await _abandon.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(30));
        return new LoadCounts(
            _sent,
            Accepted,
            _refused,
            _pairs.Sum(p => p.Unanswered),
            _pairs.Sum(p => p.DeliveredCount),
            _pairs.Sum(p => p.Duplicates),
            _pairs.Sum(p => p.Missing()),
            _reconnects);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _abandonSending.CancelAsync();
        await _abandon.CancelAsync();
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            // Disposing after a failed test: the loops are cancelled either way.
        }

        _stop.Dispose();
        _abandonSending.Dispose();
        _abandon.Dispose();
    }

    private static async Task<User> RegisterAsync(TestClient setup, string prefix)
    {
        var name = TestClient.Unique(prefix);
        return new User(await setup.RegisterAsync(name, "pw-" + name), "pw-" + name);
    }

    private async Task<bool> AllDeliveredWithinAsync(TimeSpan timeout)
    {
        try
        {
            await Wait.UntilAsync(() => _pairs.All(p => p.Missing() == 0), timeout, "every accepted message to be delivered");
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Logs in, retrying (the account may still look online on a dead replica, the store may be down) until
    /// the run is abandoned.</summary>
    private static async Task<LoadLink?> LoginAsync(int port, User user, Func<IReadOnlyList<ResumePoint>> resume, Action<JsonObject> onFrame, Action<JsonObject>? onLogin, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (!ct.IsCancellationRequested)
        {
            var (link, login, _) = await LoadLink.LoginAsync(port, user.Id, user.Password, resume(), onFrame);
            if (link is not null)
            {
                onLogin?.Invoke(login!);
                return link;
            }

            try
            {
                await Task.Delay(delay, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
        }

        return null;
    }

    private async Task SendLoopAsync(Pair pair)
    {
        await Task.Yield();
        LoadLink? link = null;
        var number = 0;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                number++;
                Interlocked.Increment(ref _sent);
                var cid = number.ToString(CultureInfo.InvariantCulture);
                var request = new OneChatRequest(pair.Receiver.Id, cid) { Cid = Cid.From(cid) };
                while (true)
                {
                    if (link is null)
                    {
                        if (number > 1) Interlocked.Increment(ref _reconnects);
                        link = await LoginAsync(_port, pair.Sender, () => [], _ => { }, null, _abandonSending.Token);
                        if (link is null)
                        {
                            pair.Unanswered++;
                            return;
                        }
                    }

                    var ack = await link.RequestAsync(request, AckTimeout);
                    if (ack is null)
                    {
                        await link.DisposeAsync();
                        link = null;
                        continue;
                    }

                    if ((int)ack["errno"]! == 0)
                    {
                        pair.Accept(number);
                    }
                    else
                    {
                        Interlocked.Increment(ref _refused);
                        LastRefusal = (string?)ack["errmsg"];
                    }

                    break;
                }

                await Task.Delay(_interval);
            }
        }
        finally
        {
            if (link is not null) await link.DisposeAsync();
        }
    }

    private async Task ReceiveLoopAsync(Pair pair)
    {
        await Task.Yield();
        var first = true;
        while (!_abandon.IsCancellationRequested)
        {
            if (!first) Interlocked.Increment(ref _reconnects);
            first = false;
            var link = await LoginAsync(
                _receiverPort,
                pair.Receiver,
                () => pair.ResumePoint is { } seq ? [new ResumePoint(pair.Sender.Id, null, seq)] : [],
                frame => pair.Receive(frame, live: true),
                login =>
                {
                    pair.ReceiverIn = true;
                    foreach (var message in login["offlinemsg"]?.AsArray() ?? [])
                    {
                        pair.Receive(message!.AsObject(), live: false);
                    }
                },
                _abandon.Token);
            if (link is null)
            {
                return;
            }

            pair.Connected(link);
            await using (link)
            {
                await Task.WhenAny(link.Closed, Task.Delay(Timeout.Infinite, _abandon.Token));
            }
        }
    }

    private sealed record User(int Id, string Password);

    /// <summary>One sender, one recipient, and the bookkeeping between them.</summary>
    private sealed class Pair(User sender, User receiver)
    {
        private readonly Lock _gate = new();
        private readonly HashSet<int> _accepted = [];
        private readonly HashSet<int> _delivered = [];
        private readonly HashSet<long> _seqs = [];
        private long _contiguous;
        private int _live;
        private LoadLink? _link;

        public User Sender { get; } = sender;

        public User Receiver { get; } = receiver;

        public Task Sending { get; set; } = Task.CompletedTask;

        /// <summary>The receiver has logged in at least once.</summary>
        public bool ReceiverIn { get; set; }

        public int Unanswered { get; set; }

        public int Duplicates { get; private set; }

        public int AcceptedCount
        {
            get { lock (_gate) return _accepted.Count; }
        }

        public int DeliveredCount
        {
            get { lock (_gate) return _delivered.Count; }
        }

        public int LiveCount => Volatile.Read(ref _live);

        /// <summary>The last seq up to which the recipient has every message; null before the first.</summary>
        public long? ResumePoint
        {
            get { lock (_gate) return _contiguous > 0 ? _contiguous : null; }
        }

        public void Accept(int number)
        {
            lock (_gate) _accepted.Add(number);
        }

        public int Missing()
        {
            lock (_gate) return _accepted.Count(n => !_delivered.Contains(n));
        }

        public void Receive(JsonObject frame, bool live)
        {
            if ((int)frame["msgid"]! != 6)
            {
                return;
            }

            var seq = (long)frame["seq"]!;
            lock (_gate)
            {
                if (!_seqs.Add(seq))
                {
                    Duplicates++;
                    return;
                }

                _delivered.Add(int.Parse((string)frame["msg"]!, CultureInfo.InvariantCulture));
                while (_seqs.Contains(_contiguous + 1)) _contiguous++;
            }

            if (live) Interlocked.Increment(ref _live);
        }

        public void Connected(LoadLink link) => _link = link;

        /// <summary>Drops the recipient's connection: its loop logs in again and resumes.</summary>
        public void ForceReconnect() => _ = _link?.DisposeAsync().AsTask();
    }
}
