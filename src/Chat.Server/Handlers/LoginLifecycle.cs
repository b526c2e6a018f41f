using Chat.Domain;
using Chat.Server.Hub;
using Chat.Server.Sessions;
using Chat.Server.Transport;

namespace Chat.Server.Handlers;

/// <summary>Turns a connection into a user and back: the hub (presence and live delivery), then cursors, in that order.</summary>
public sealed class LoginLifecycle(ChatHub hub, ICursorWriter cursors, IReadMarkWriter reads, GapFill gaps, ConnectionRegistry connections, ILogger<LoginLifecycle> log)
{
    /// <summary>
    /// Whether the logged-in user's requests may be served: not once this replica's claims lapsed (the hub has then
    /// closed the session; the client logs in again, here or elsewhere), nor once the session was closed from outside
    /// (a frame read just before).
    /// </summary>
    public bool Holds(RequestContext context) => context.User is null || (hub.ClaimsHold && !context.Connection.Closing);

    /// <summary>Claims the user cluster-wide and makes this connection reachable as them.</summary>
    /// <returns>Null when the user is already online.</returns>
    /// <param name="v2">The login asked for the v2 protocol.</param>
    public async Task<UserSession?> BeginAsync(RequestContext context, UserAccount account, bool v2)
    {
        var user = new UserSession(account.Id, account.Name, context.Connection, cursors, v2, gaps);
        if (!await hub.ConnectAsync(user))
        {
            return null;
        }

        context.User = user;
        connections.LoggedIn(context.Connection);
        return user;
    }

    /// <summary>LOGINOUT: the login ends and the connection stays, anonymous again (the login deadline runs anew).</summary>
    public async Task LogOutAsync(RequestContext context)
    {
        await EndAsync(context);
        connections.LoggedOut(context.Connection);
    }

    /// <summary>
    /// Ends the login: waits for its sends to be answered, stops live delivery, lets queued frames reach the connection,
    /// writes cursors and read marks, and only then frees the user to log in elsewhere.
    /// </summary>
    public async Task EndAsync(RequestContext context)
    {
        if (context.User is not { } user)
        {
            return;
        }

        try
        {
            try
            {
                await context.Answered;
                await hub.DisconnectAsync(user, user.Groups());
            }
            finally
            {
                // Once, whatever failed: nothing more is queued for the login.
                user.End();
                context.User = null;
            }

            await user.Connection.WhenWrittenAsync();
            await cursors.FlushAsync(CancellationToken.None);
            await reads.FlushAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The store is away: the cursors stay queued for the writer's next tick. At worst the user gets a
            // message again at the next login (it carries its seq), never loses one.
            ServerLog.LogoutFlushFailed(log, ex, user.Id);
        }
        finally
        {
            await hub.ReleaseAsync(user);
        }
    }
}
