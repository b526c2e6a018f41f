namespace Chat.Client;

/// <summary>Where the client connects, and how patient it is.</summary>
public sealed record ClientOptions(string Host, int Port)
{
    private readonly Uri? _endpoint;

    /// <summary>
    /// What the client connects to: <c>tcp://host:port</c> (the default, from <see cref="Host"/> and <see cref="Port"/>),
    /// or <c>ws://host:port/ws</c> for the same chat over WebSocket (Chat.Sdk's <c>ChatLink</c> speaks both).
    /// </summary>
    public Uri Endpoint
    {
        get => _endpoint ?? new UriBuilder("tcp", Host, Port).Uri;
        init => _endpoint = value;
    }

    /// <summary>Where files are uploaded and downloaded (nginx's http server); environment: CHAT_CLIENT_HTTP.</summary>
    public Uri? HttpBase { get; init; }

    /// <summary>Connection attempts after a drop (and when connecting at all) before the client gives up.</summary>
    public int ConnectAttempts { get; init; } = 8;

    /// <summary>Wait before the first reconnect attempt; doubled after each failed one, up to <see cref="MaxConnectDelay"/>.</summary>
    public TimeSpan FirstConnectDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxConnectDelay { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long LOGIN, REG and LOGINOUT may wait for their answer.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// After this long without sending anything the client sends PING, so the server's idle timeout (5 min by
    /// default) and a balancer's never close a connection that is merely quiet. Environment: CHAT_CLIENT_HEARTBEAT
    /// (seconds).
    /// </summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long quitting waits for the ACKs of requests still under way.</summary>
    public TimeSpan QuitDeadline { get; init; } = TimeSpan.FromSeconds(5);
}
