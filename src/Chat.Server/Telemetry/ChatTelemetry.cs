using System.Diagnostics;

namespace Chat.Server.Telemetry;

/// <summary>
/// The server's spans, on the <c>Chat.Server</c> activity source. <see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns null while nothing listens, so the chat path pays for tracing only when someone samples it.
/// </summary>
public static class ChatTelemetry
{
    public const string SourceName = "Chat.Server";

    public const string StoreAppend = "chat.store.append";
    public const string BusPublish = "chat.bus.publish";
    public const string BusDeliver = "chat.bus.deliver";

    public const string ReplicaTag = "chat.replica";
    public const string UserTag = "chat.user_id";
    public const string TargetTag = "chat.target_id";
    public const string ConversationTag = "chat.conversation_id";
    public const string SeqTag = "chat.seq";

    public static readonly ActivitySource Source = new(SourceName);
}
