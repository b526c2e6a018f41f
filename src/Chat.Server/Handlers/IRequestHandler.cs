using System.Text.Json;
using Chat.Domain.Protocol;
using Chat.Server.Connections;
using Chat.Server.Protocol;

namespace Chat.Server.Handlers;

/// <summary>Handles one message type; registered in DI keyed by its <see cref="MsgId"/>, resolved per frame.</summary>
public interface IRequestHandler
{
    ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct);
}

public static class Replies
{
    /// <summary>The request failed: ACK with the error when it carried a cid, ERROR otherwise.</summary>
    public static void Fail(this ChatSession session, Request request, ErrorCode code, string message)
    {
        session.Metrics?.Error(code);
        session.Send(request.Cid is { } cid
            ? Frames.Ack(cid, code, message)
            : Frames.Error(code, message, (int)request.MsgId));
    }

    /// <summary>The request took effect: ACK when it carried a cid (the seed sends none and expects nothing).</summary>
    public static void Done(this ChatSession session, Request request, Action<Utf8JsonWriter>? result = null)
    {
        if (request.Cid is { } cid)
        {
            session.Send(Frames.Ack(cid, ErrorCode.None, null, result));
        }
    }

    public static void Fail(this ChatSession session, RequestError error)
    {
        session.Metrics?.Error(error.Code);
        session.Send(error.Cid is { } cid
            ? Frames.Ack(cid, error.Code, error.Message)
            : Frames.Error(error.Code, error.Message, error.MsgId));
    }
}
