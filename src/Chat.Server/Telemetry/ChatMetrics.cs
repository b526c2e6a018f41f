using System.Diagnostics.Metrics;
using Chat.Protocol;

namespace Chat.Server.Telemetry;

/// <summary>
/// The server's instruments, on the <c>Chat.Server</c> meter, and the running figures behind <c>/stats</c>. Tag
/// values are boxed once, so recording allocates nothing, and costs next to nothing while nobody listens.
/// </summary>
public sealed class ChatMetrics
{
    public const string MeterName = "Chat.Server";

    private static readonly string MsgIdTag = Field.MsgId.Value;

    private const int CachedCodes = 32;
    private static readonly object[] Codes = [.. Enumerable.Range(0, CachedCodes).Select(i => (object)i)];
    private static readonly object Other = "other";
    private static readonly object[] LoginTags = ["ok", "invalid", "already_online", "throttled", "busy", "banned"];
    private static readonly object[] TurnedAwayTags = ["server_full", "draining", "address_full", "login_deadline", "anonymous_full"];
    private static readonly object RefreshOk = "ok";
    private static readonly object RefreshFailed = "failed";

    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _turnedAway;
    private readonly Counter<long> _logins;
    private readonly Counter<long> _framesReceived;
    private readonly Counter<long> _framesSent;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _messages;
    private readonly Histogram<double> _publishDuration;
    private readonly Histogram<double> _deliveryLatency;
    private readonly Counter<long> _outboundDropped;
    private readonly Counter<long> _slowConsumers;
    private readonly Counter<long> _presenceRefreshes;

    public ChatMetrics(IMeterFactory meters, TimeProvider time)
    {
        var meter = meters.Create(MeterName);
        _connections = meter.CreateUpDownCounter<long>("chat.connections", "{connection}", "Open chat connections");
        _turnedAway = meter.CreateCounter<long>("chat.connections.refused", "{connection}", "Connections refused or closed by a connection limit, by reason");
        _logins = meter.CreateCounter<long>("chat.logins", "{login}", "LOGIN requests by outcome");
        _framesReceived = meter.CreateCounter<long>("chat.frames.received", "{frame}", "Frames received, by msgid");
        _framesSent = meter.CreateCounter<long>("chat.frames.sent", "{frame}", "Frames written to clients, by msgid");
        _errors = meter.CreateCounter<long>("chat.errors", "{error}", "Requests answered with an error, by errno");
        _messages = meter.CreateCounter<long>("chat.messages.stored", "{message}", "Chat messages stored by this replica");
        _publishDuration = meter.CreateHistogram<double>("chat.bus.publish.duration", "ms", "Time to hand a message to Redis");
        _deliveryLatency = meter.CreateHistogram<double>("chat.bus.delivery.latency", "ms", "From publish on one replica to delivery on another");
        _outboundDropped = meter.CreateCounter<long>("chat.outbound.dropped", "{frame}", "Frames not queued because a client's outgoing queue was full");
        _slowConsumers = meter.CreateCounter<long>("chat.slow_consumer.disconnects", "{connection}", "Connections dropped for not reading");
        _presenceRefreshes = meter.CreateCounter<long>("chat.presence.refreshes", "{refresh}", "Presence refresh rounds, by outcome");
        MessageRate = new RateWindow(time);
    }

    /// <summary>Messages stored per second, over the last seconds.</summary>
    public RateWindow MessageRate { get; }

    /// <summary>Fed by the connection registry, which alone counts open connections.</summary>
    public void ConnectionOpened() => _connections.Add(1);

    public void ConnectionClosed() => _connections.Add(-1);

    /// <summary>A connection refused, or closed before it logged in, by a limit of the connection registry.</summary>
    public void ConnectionTurnedAway(TurnedAway reason) => _turnedAway.Add(1, new KeyValuePair<string, object?>("reason", TurnedAwayTags[(int)reason]));

    public void Login(LoginOutcome outcome) => _logins.Add(1, new KeyValuePair<string, object?>("outcome", LoginTags[(int)outcome]));

    public void FrameReceived(int? msgId)
    {
        if (_framesReceived.Enabled)
        {
            _framesReceived.Add(1, new KeyValuePair<string, object?>(MsgIdTag, Code(msgId)));
        }
    }

    /// <summary>Counts a frame by the msgid it starts with (every server frame begins with it).</summary>
    public void FrameSent(ReadOnlySpan<byte> frame)
    {
        if (_framesSent.Enabled)
        {
            _framesSent.Add(1, new KeyValuePair<string, object?>(MsgIdTag, Code(LeadingMsgId(frame))));
        }
    }

    public void Error(ErrorCode code) => _errors.Add(1, new KeyValuePair<string, object?>("errno", Code((int)code)));

    public void MessageStored()
    {
        MessageRate.Add();
        _messages.Add(1);
    }

    public void Published(TimeSpan elapsed) => _publishDuration.Record(elapsed.TotalMilliseconds);

    public void DeliveredFromBus(double latencyMs) => _deliveryLatency.Record(latencyMs);

    public void OutboundDropped() => _outboundDropped.Add(1);

    public void SlowConsumerDisconnected() => _slowConsumers.Add(1);

    public void PresenceRefreshed(bool ok) =>
        _presenceRefreshes.Add(1, new KeyValuePair<string, object?>("outcome", ok ? RefreshOk : RefreshFailed));

    internal static int? LeadingMsgId(ReadOnlySpan<byte> frame) => ServerFrames.LeadingMsgId(frame);

    private static object Code(int? value) => value is >= 0 and < CachedCodes ? Codes[value.Value] : Other;
}

/// <summary>Why a connection was refused or closed by a connection limit: the <c>reason</c> tag of <c>chat.connections.refused</c>.</summary>
public enum TurnedAway
{
    /// <summary><c>Chat:MaxConnections</c> are open (errno 10).</summary>
    ServerFull,

    /// <summary>The replica is shutting down (errno 10).</summary>
    Draining,

    /// <summary>The client's address holds <c>Chat:MaxConnectionsPerAddress</c> already (errno 11).</summary>
    AddressFull,

    /// <summary>Not logged in within <c>Chat:LoginDeadline</c>: closed.</summary>
    LoginDeadline,

    /// <summary>The oldest of more than <c>Chat:MaxAnonymousConnections</c> not logged in: closed.</summary>
    AnonymousFull,
}

/// <summary>How a LOGIN ended: the <c>outcome</c> tag of <c>chat.logins</c>.</summary>
public enum LoginOutcome
{
    Ok,
    Invalid,
    AlreadyOnline,

    /// <summary>Refused by a per-connection or per-address limit (errno 11).</summary>
    Throttled,

    /// <summary>The password workers' queue was full, or the client left before its check (errno 10).</summary>
    Busy,

    /// <summary>Right credentials, but an operator banned the user (errno 13).</summary>
    Banned,
}
