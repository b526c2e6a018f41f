using Microsoft.Extensions.Logging;

namespace Chat.Server;

/// <summary>Every log line the server writes. No message text, password or hash ever appears here.</summary>
public static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Debug, "Connection {ConnectionId} opened from {Remote}")]
    public static partial void ConnectionOpened(ILogger logger, string connectionId, string? remote);

    [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} closed")]
    public static partial void ConnectionClosed(ILogger logger, string connectionId);

    [LoggerMessage(3, LogLevel.Information, "Connection {ConnectionId} sent a frame over {Limit} bytes: closing it")]
    public static partial void FrameTooLarge(ILogger logger, string connectionId, int limit);

    [LoggerMessage(4, LogLevel.Error, "Request {MsgId} on connection {ConnectionId} failed")]
    public static partial void RequestFailed(ILogger logger, Exception exception, int msgId, string connectionId);

    [LoggerMessage(5, LogLevel.Warning, "A message from user {UserId} could not be stored")]
    public static partial void AppendFailed(ILogger logger, Exception exception, int userId);

    [LoggerMessage(6, LogLevel.Error, "Connection {ConnectionId} failed")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(7, LogLevel.Information, "Connection {ConnectionId} ended inside a frame ({Bytes} bytes without a terminator)")]
    public static partial void TruncatedFrame(ILogger logger, string connectionId, long bytes);

    [LoggerMessage(9, LogLevel.Warning, "Writing user {UserId}'s cursors at logout failed; they are retried")]
    public static partial void LogoutFlushFailed(ILogger logger, Exception exception, int userId);

    [LoggerMessage(20, LogLevel.Information, "Connection {ConnectionId} sent no frame for {IdleTimeout}: closing it")]
    public static partial void IdleTimeout(ILogger logger, string connectionId, TimeSpan idleTimeout);

    [LoggerMessage(21, LogLevel.Warning, "Refused a connection from {Remote}: {Limit} connections are open")]
    public static partial void ServerFull(ILogger logger, string? remote, int limit);

    [LoggerMessage(24, LogLevel.Debug, "Refused a connection from {Address}: {Limit} connections from that address are open")]
    public static partial void AddressFull(ILogger logger, string? address, int limit);

    [LoggerMessage(22, LogLevel.Information, "Login attempts refused on connection {ConnectionId} from {Address}: {Reason}")]
    public static partial void LoginThrottled(ILogger logger, string connectionId, string? address, string reason);

    [LoggerMessage(8, LogLevel.Information, "Chat replica {ReplicaId} listening for chat on {ChatEndpoint} and HTTP on {HttpEndpoint}")]
    public static partial void Listening(ILogger logger, string replicaId, string chatEndpoint, string httpEndpoint);

    [LoggerMessage(50, LogLevel.Information, "Shutting down: {Count} chat connections drained in {ElapsedMs} ms")]
    public static partial void Drained(ILogger logger, int count, long elapsedMs);

    [LoggerMessage(51, LogLevel.Warning, "Shutting down: {Count} chat connections still open after {Timeout}, aborted")]
    public static partial void DrainTimedOut(ILogger logger, int count, TimeSpan timeout);

    [LoggerMessage(52, LogLevel.Warning, "Closed a connection from trusted proxy {Remote}: no valid PROXY protocol header")]
    public static partial void BadProxyHeader(ILogger logger, string? remote);

    [LoggerMessage(23, LogLevel.Warning, "Password workers run at the normal CPU priority (setpriority failed: {Error})")]
    public static partial void PasswordPriorityUnchanged(ILogger logger, int error);
}
