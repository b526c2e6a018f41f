namespace Chat.Server.Files;

internal static partial class FileLog
{
    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "File {FileId} uploaded by user {UserId}: {Size} bytes of {Type}")]
    public static partial void Uploaded(ILogger logger, string fileId, int userId, long size, string type);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Information, Message = "Upload by user {UserId} refused: {Status} {Reason}")]
    public static partial void Refused(ILogger logger, int userId, int status, string reason);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Information, Message = "Upload by user {UserId} ended before its body did")]
    public static partial void Abandoned(ILogger logger, Exception exception, int userId);

    [LoggerMessage(EventId = 2204, Level = LogLevel.Information, Message = "File {FileId} erased")]
    public static partial void Erased(ILogger logger, string fileId);

    [LoggerMessage(EventId = 2205, Level = LogLevel.Warning, Message = "Sweeping unsent files failed; the next pass tries again")]
    public static partial void SweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2206, Level = LogLevel.Warning, Message = "File {FileId} was not linked to message {Seq} of conversation {ConversationId}")]
    public static partial void LinkFailed(ILogger logger, Exception exception, string fileId, long conversationId, long seq);

    [LoggerMessage(EventId = 2207, Level = LogLevel.Warning, Message = "The file of recalled message {Seq} of conversation {ConversationId} was not erased; the unsent-file sweep does not take it either")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, long conversationId, long seq);
}
