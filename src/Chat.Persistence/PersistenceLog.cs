using Microsoft.Extensions.Logging;

namespace Chat.Persistence;

// Never log message bodies, names or password hashes here: counts, ids and exceptions only.
internal static partial class PersistenceLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Database migrations applied")]
    public static partial void MigrationsApplied(this ILogger logger);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning,
        Message = "Database unreachable while migrating (attempt {Attempt}: {Reason}), retrying in {Delay}")]
    public static partial void MigrationRetry(this ILogger logger, int attempt, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning,
        Message = "Message batch of {Count} hit a transient conflict (attempt {Attempt}), retrying")]
    public static partial void BatchRetry(this ILogger logger, int count, int attempt, Exception exception);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Error, Message = "Message batch of {Count} failed; its senders get the error")]
    public static partial void BatchFailed(this ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Information, Message = "Message writer drained and stopped")]
    public static partial void WriterStopped(this ILogger logger);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning,
        Message = "Message batch of {Count} lost its database connection (reconnect {Reconnect}); reconnecting")]
    public static partial void BatchReconnect(this ILogger logger, int count, int reconnect, Exception exception);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Warning,
        Message = "Message batch of {Count} whose outcome was unknown: committed {Committed}")]
    public static partial void BatchOutcomeResolved(this ILogger logger, int count, bool committed);

    [LoggerMessage(EventId = 2015, Level = LogLevel.Warning, Message = "Deleting the marks of stopped writers failed")]
    public static partial void MarksPruneFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Warning,
        Message = "Writing {Count} delivered-cursors or read marks failed; they are kept for the next flush")]
    public static partial void CursorFlushFailed(this ILogger logger, int count, Exception exception);
}
