namespace Chat.Server.Hub;

public static partial class HubLog
{
    [LoggerMessage(100, LogLevel.Warning, "Publishing on {Channel} failed; a message waits in the store, a presence change is lost")]
    public static partial void PublishFailed(ILogger logger, Exception exception, string channel);

    [LoggerMessage(101, LogLevel.Warning, "Unsubscribing {Channel} failed")]
    public static partial void UnsubscribeFailed(ILogger logger, Exception exception, string channel);

    [LoggerMessage(102, LogLevel.Warning, "A payload on {Channel} is not one this version understands")]
    public static partial void UnknownPayload(ILogger logger, string channel);

    [LoggerMessage(103, LogLevel.Error, "Delivering a message from {Channel} failed")]
    public static partial void DeliveryFailed(ILogger logger, Exception exception, string channel);

    [LoggerMessage(104, LogLevel.Warning, "Releasing presence of user {UserId} failed; it expires with its TTL")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, int userId);

    [LoggerMessage(105, LogLevel.Warning, "Refreshing presence failed; retrying at the next tick")]
    public static partial void RefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(106, LogLevel.Warning, "Redis connection lost ({FailureType}): cross-replica delivery waits in the store")]
    public static partial void ConnectionLost(ILogger logger, string failureType);

    [LoggerMessage(107, LogLevel.Information, "Redis connection restored")]
    public static partial void ConnectionRestored(ILogger logger);

    [LoggerMessage(108, LogLevel.Warning, "Keeping this replica's liveness key failed; its users' claims are void until it is back")]
    public static partial void LivenessFailed(ILogger logger, Exception exception);

    [LoggerMessage(109, LogLevel.Warning, "Subscribing to presence changes failed; PRESENCE pushes from other replicas stay off until a restart")]
    public static partial void PresenceSubscribeFailed(ILogger logger, Exception exception);

    [LoggerMessage(110, LogLevel.Warning, "Sweeping after dead replicas failed; their users' friends hear they went offline at the next sweep")]
    public static partial void ReapFailed(ILogger logger, Exception exception);

    [LoggerMessage(113, LogLevel.Warning, "This replica's liveness lapsed (not renewed within its TTL): closing its {Count} users' sessions, whose claims were void meanwhile")]
    public static partial void LivenessLapsed(ILogger logger, int count);
}
