using System.Text.Json;
using System.Text.Json.Serialization;
using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Handlers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Chat.Server.Admin;

/// <summary>
/// <c>POST /admin/recall</c>: an operator recalls a message exactly as RECALL (25) does, through the same
/// <see cref="MessageSender"/> — a recall entry takes the conversation's next seq through the message writer (which
/// erases the text, the edits' text and the reactions in the same transaction), the file is released, and the entry is
/// routed like a user's, so every live session, on every replica, gets it in seq order and HISTORY shows the message
/// recalled. The log has no operator: the entry is the author's (its <c>id</c> is the author's), which is what routes it
/// to both parties of a direct conversation.
/// </summary>
public static class OperatorRecall
{
    public static async Task<Results<Ok<RecallDone>, ProblemHttpResult>> RecallAsync(
        HttpRequest request, IChatStore store, MessageSender sender, CancellationToken ct)
    {
        var (body, problem) = await ReadAsync(request, ct);
        if (problem is not null)
        {
            return problem;
        }

        var conversation = body!.GroupId is { } g ? ConversationId.Group(g) : ConversationId.Direct(body.Peer![0], body.Peer[1]);
        if (await store.MessageAsync(userId: null, conversation, body.Seq, ct) is not { } message) // an operator sees any
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"no message {body.Seq} in this conversation");
        }

        if (message.Recalled)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"message {body.Seq} is recalled already");
        }

        // To the peer (or the group's members) and the author's sessions. Once started, the recall completes whether or
        // not the operator waits for the answer.
        var target = body.GroupId ?? (body.Peer![0] == message.SenderId ? body.Peer[1] : body.Peer[0]);
        return await sender.StartRecall(message, conversation, target).FinishAsync() is MessageStored stored
            ? TypedResults.Ok(new RecallDone(stored.Seq, body.Seq, stored.Ts))
            : TypedResults.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "the recall was not stored: try again");
    }

    /// <summary>The body, or the problem with it (the field named).</summary>
    private static async Task<(RecallBody? Body, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
            body = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return (null, AdminProblems.Invalid("body", "the body must be a JSON object: {\"peer\": [a, b] or \"groupid\": g, \"seq\": n}"));
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            return (null, AdminProblems.Invalid("body", "the body must be a JSON object"));
        }

        var hasPeer = body.TryGetProperty("peer", out var peer) && peer.ValueKind != JsonValueKind.Null;
        var hasGroup = body.TryGetProperty("groupid", out var group) && group.ValueKind != JsonValueKind.Null;
        if (hasPeer == hasGroup)
        {
            return (null, AdminProblems.Invalid("peer", "name the conversation: either peer (the two users of a direct conversation) or groupid"));
        }

        IReadOnlyList<int>? pair = null;
        int? groupId = null;
        if (hasPeer)
        {
            if (peer.ValueKind != JsonValueKind.Array || peer.GetArrayLength() != 2
                || !peer[0].TryGetInt32(out var a) || !peer[1].TryGetInt32(out var b) || a <= 0 || b <= 0 || a == b)
            {
                return (null, AdminProblems.Invalid("peer", "peer must be the two users of the conversation: [a, b], two different positive ids"));
            }

            pair = [a, b];
        }
        else
        {
            if (group.ValueKind != JsonValueKind.Number || !group.TryGetInt32(out var g) || g <= 0)
            {
                return (null, AdminProblems.Invalid("groupid", "groupid must be a positive group id"));
            }

            groupId = g;
        }

        if (!body.TryGetProperty("seq", out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var seq) || seq <= 0)
        {
            return (null, AdminProblems.Invalid("seq", "seq must be the message's seq, a positive integer"));
        }

        return (new RecallBody(pair, groupId, seq), null);
    }
}

/// <summary>What <c>POST /admin/recall</c> takes: <c>peer</c> (the two users of a direct conversation) or <c>groupid</c>, and the message's <c>seq</c>.</summary>
public sealed record RecallBody(IReadOnlyList<int>? Peer, [property: JsonPropertyName("groupid")] int? GroupId, long Seq);

/// <summary>The recall entry: its own seq, the message's (<c>ref</c>), and when.</summary>
public sealed record RecallDone(long Seq, long Ref, long Ts);

/// <summary>ProblemDetails the operators' routes share.</summary>
internal static class AdminProblems
{
    public static ProblemHttpResult Invalid(string field, string problem) =>
        TypedResults.Problem(new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [problem] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = problem,
        });
}
