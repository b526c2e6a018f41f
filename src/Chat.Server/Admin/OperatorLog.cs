namespace Chat.Server.Admin;

// Operators and integrators (issue 24): retention and webhooks. Ids, counts and exceptions only.
internal static partial class OperatorLog
{
    [LoggerMessage(EventId = 2401, Level = LogLevel.Information, Message = "Retention erased {Entries} entries older than {Days} days")]
    public static partial void RetentionErased(ILogger logger, int entries, int days);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Warning, Message = "Retention pass failed; it runs again at the next interval")]
    public static partial void RetentionFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2403, Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} ({Type}) failed, attempt {Attempt}: {Error}")]
    public static partial void DeliveryFailed(ILogger logger, string deliveryId, string type, int attempt, string error);

    [LoggerMessage(EventId = 2404, Level = LogLevel.Error, Message = "Webhook delivery {DeliveryId} ({Type}) dead-lettered after {Attempts} attempts: {Error}")]
    public static partial void DeadLettered(ILogger logger, string deliveryId, string type, int attempts, string error);

    [LoggerMessage(EventId = 2405, Level = LogLevel.Warning, Message = "Webhook dispatcher round failed; retrying")]
    public static partial void DispatcherFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2406, Level = LogLevel.Information, Message = "This replica ({Holder}) now delivers webhooks")]
    public static partial void DispatcherLeading(ILogger logger, string holder);
}
