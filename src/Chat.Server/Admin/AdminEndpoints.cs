using System.Text.Json;
using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Handlers;
using Chat.Server.Hub;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Chat.Server.Admin;

/// <summary>
/// The operators' API under <c>/admin/</c> on each replica's HTTP port (nginx never proxies it): users, bans, sign-outs,
/// groups, cluster figures, described at <c>/admin/openapi.json</c>. Every request needs one of <c>Chat:Admin:Keys</c>
/// as a bearer token; with no key configured nothing here is mapped (404). A ban or a sign-out reaches the user's
/// sessions on every replica through the hub's bus. Errors are ProblemDetails.
/// </summary>
public static class AdminEndpoints
{
    /// <summary>The endpoints' group name; the OpenAPI document (the default one, served at a path without a document name) lists only these.</summary>
    public const string Group = "admin";

    public static IServiceCollection AddChatAdmin(this IServiceCollection services)
    {
        services.AddChatOptions<AdminOptions>().BindConfiguration(AdminOptions.Section);
        services.AddSingleton<AdminKeys>();
        services.AddProblemDetails();
        services.AddOpenApi(o => o.ShouldInclude = d => d.GroupName == Group);
        return services;
    }

    public static WebApplication MapChatAdmin(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<AdminKeys>().Enabled)
        {
            return app;
        }

        app.UseWhen(c => c.Request.Path.StartsWithSegments("/admin"), a => a.Use(RequireKeyAsync));
        app.MapOpenApi("/admin/openapi.json");
        var admin = app.MapGroup("/admin").WithGroupName(Group).WithTags(Group);
        admin.MapGet("/users/{id:int}", GetUserAsync).WithSummary("A user: name, online, and any ban in force");
        admin.MapGet("/users", FindUsersAsync).WithSummary("Users whose name starts with ?name= (ignoring case), at most 50");
        admin.MapPost("/users/{id:int}/ban", BanAsync).Accepts<BanBody>("application/json")
            .WithSummary("Bans a user: logins get errno 13 with the reason, live sessions on every replica close, tokens are revoked");
        admin.MapDelete("/users/{id:int}/ban", LiftBanAsync).WithSummary("Lifts a ban");
        admin.MapPost("/users/{id:int}/signout", SignOutAsync).WithSummary("Closes every session of the user on every replica and revokes every token");
        admin.MapGet("/groups/{id:int}", GetGroupAsync).WithSummary("A group with its members and their roles");
        admin.MapDelete("/groups/{id:int}/members/{userId:int}", RemoveMemberAsync)
            .WithSummary("Removes a member (not the creator); the members see REMOVE_MEMBER with by = 0");
        admin.MapGet("/stats", StatsAsync).WithSummary("Cluster-wide: the live replicas and the users on each");
        admin.MapPost("/recall", OperatorRecall.RecallAsync).Accepts<RecallBody>("application/json")
            .WithSummary("Recalls a message as RECALL does (the author's entry): text, file and reactions erased, every live session told");
        return app;
    }

    /// <summary>A wrong or missing key: 401 after a fixed delay, so guessing is slow and every failure looks the same.</summary>
    private static async Task RequireKeyAsync(HttpContext context, RequestDelegate next)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var key = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..].Trim() : null;
        if (context.RequestServices.GetRequiredService<AdminKeys>().Accepts(key))
        {
            await next(context);
            return;
        }

        await Task.Delay(context.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.FailureDelay, context.RequestAborted);
        await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "a valid admin key is required (Authorization: Bearer <key>)")
            .ExecuteAsync(context);
    }

    private static async Task<Results<Ok<AdminUser>, ProblemHttpResult>> GetUserAsync(int id, IChatStore store, IAdminStore admin, ChatHub hub, TimeProvider time, CancellationToken ct)
    {
        if (await store.FindUserAsync(id, ct) is not { } user)
        {
            return NoUser(id);
        }

        var online = (await hub.OnlineAsync([id])).Contains(id);
        var ban = await admin.BanAsync(id, time.GetUtcNow(), ct);
        return TypedResults.Ok(new AdminUser(user.Id, user.Name, online, ban is null ? null : new BanBody(ban.Reason, ban.Until)));
    }

    private static async Task<Results<Ok<IReadOnlyList<AdminUserName>>, ProblemHttpResult>> FindUsersAsync(string? name, IAdminStore admin, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(name) || name.Length > Validation.MaxNameLength)
        {
            return Invalid("name", $"name is required: a prefix of 1 to {Validation.MaxNameLength} characters");
        }

        var users = await admin.UsersByNameAsync(name, 50, ct);
        return TypedResults.Ok<IReadOnlyList<AdminUserName>>([.. users.Select(u => new AdminUserName(u.Id, u.Name))]);
    }

    private static async Task<Results<Ok<BanBody>, ProblemHttpResult>> BanAsync(
        int id, HttpRequest request, IChatStore store, IAdminStore admin, ChatHub hub, TimeProvider time, CancellationToken ct)
    {
        var (ban, problem) = await ReadBanAsync(request, time.GetUtcNow(), ct);
        if (problem is not null)
        {
            return problem;
        }

        if (await store.FindUserAsync(id, ct) is null)
        {
            return NoUser(id);
        }

        await admin.BanAsync(id, ban!, time.GetUtcNow(), ct);
        hub.CloseEverywhere(id, ServerFrames.Error(ErrorCode.NotAllowed, ban!.Refusal, null));
        return TypedResults.Ok(new BanBody(ban!.Reason, ban.Until));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> LiftBanAsync(int id, IAdminStore admin, CancellationToken ct) =>
        await admin.LiftBanAsync(id, ct)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"user {id} is not banned");

    private static async Task<Results<NoContent, ProblemHttpResult>> SignOutAsync(int id, IChatStore store, ISessionTokenStore tokens, ChatHub hub, CancellationToken ct)
    {
        if (await store.FindUserAsync(id, ct) is null)
        {
            return NoUser(id);
        }

        await tokens.RevokeAllAsync(id, ct);
        hub.CloseEverywhere(id, SignedOut);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<AdminGroup>, ProblemHttpResult>> GetGroupAsync(int id, IAdminStore admin, CancellationToken ct) =>
        await admin.GroupAsync(id, ct) is { } group
            ? TypedResults.Ok(new AdminGroup(group.Id, group.Name, group.Description, [.. group.Members.Select(m => new AdminMember(m.Id, m.Name, m.Role == GroupRole.Creator ? Field.Creator.Value : Field.Normal.Value))]))
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"no group {id}");

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveMemberAsync(int id, int userId, IAdminStore admin, IChatStore store, ChatHub hub, CancellationToken ct)
    {
        if (await admin.GroupAsync(id, ct) is not { } group)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"no group {id}");
        }

        var creator = group.Members.FirstOrDefault(m => m.Role == GroupRole.Creator);
        if (group.Members.All(m => m.Id != userId))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"user {userId} is not a member of group {id}");
        }

        if (creator is null || creator.Id == userId)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "the creator cannot be removed: the creator leaves with LEAVE_GROUP, which passes the role on");
        }

        if (await store.RemoveMemberAsync(creator.Id, id, userId, ct) != RemoveResult.Removed)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "the group changed meanwhile: try again");
        }

        await MemberRemoval.AnnounceAsync(hub, id, userId, by: 0, exceptSession: 0);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<AdminStats>> StatsAsync(ChatHub hub)
    {
        var replicas = await hub.ReplicasAsync();
        return TypedResults.Ok(new AdminStats(replicas.Sum(r => r.Users), [.. replicas.Select(r => new AdminReplica(r.Replica, r.Users))]));
    }

    private static readonly byte[] SignedOut = ServerFrames.Error(ErrorCode.NotAllowed, "signed out by an operator", null);

    /// <summary>The ban in the body, or the problem with it (the field named).</summary>
    private static async Task<(Ban? Ban, ProblemHttpResult? Problem)> ReadBanAsync(HttpRequest request, DateTimeOffset now, CancellationToken ct)
    {
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
            body = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return (null, Invalid("body", "the body must be a JSON object: {\"reason\": \"...\", \"until\": ISO-8601 or absent}"));
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            return (null, Invalid("body", "the body must be a JSON object"));
        }

        var reason = body.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        if (Validation.BanReason(reason) is { } problem)
        {
            return (null, Invalid("reason", problem));
        }

        DateTimeOffset? until = null;
        if (body.TryGetProperty("until", out var u) && u.ValueKind != JsonValueKind.Null)
        {
            if (u.ValueKind != JsonValueKind.String || !u.TryGetDateTimeOffset(out var at))
            {
                return (null, Invalid("until", "until must be an ISO-8601 date and time, or absent for a ban without end"));
            }

            if (at <= now)
            {
                return (null, Invalid("until", "until must lie in the future"));
            }

            until = at;
        }

        return (new Ban(reason!, until), null);
    }

    private static ProblemHttpResult NoUser(int id) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"no user {id}");

    private static ProblemHttpResult Invalid(string field, string problem) =>
        TypedResults.Problem(new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [problem] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = problem,
        });
}

public sealed record BanBody(string Reason, DateTimeOffset? Until);

public sealed record AdminUser(int Id, string Name, bool Online, BanBody? Ban);

public sealed record AdminUserName(int Id, string Name);

public sealed record AdminMember(int Id, string Name, string Role);

public sealed record AdminGroup(int Id, string Name, string Description, IReadOnlyList<AdminMember> Members);

public sealed record AdminReplica(string Replica, long Users);

public sealed record AdminStats(long UsersOnline, IReadOnlyList<AdminReplica> Replicas);
