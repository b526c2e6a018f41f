using Chat.Domain;
using Microsoft.Extensions.Logging;

namespace Chat.Server.Connections;

/// <summary>Turns a connection into a user and back: presence, the session store and cursors, in that order.</summary>
public sealed class Logins(SessionStore sessions, IPresence presence, ICursorWriter cursors, ILogger<Logins> log)
{
    /// <summary>Claims the user cluster-wide and makes this connection reachable as them.</summary>
    /// <returns>Null when the user is already online.</returns>
    public async Task<UserSession?> BeginAsync(ChatSession session, UserAccount account)
    {
        if (!await presence.TryClaimAsync(account.Id))
        {
            return null;
        }

        var user = new UserSession(account.Id, account.Name, cursors);
        session.BeginLogin(user);
        if (await sessions.AddAsync(account.Id, session))
        {
            return user;
        }

        session.EndLogin();
        await presence.ReleaseAsync(account.Id);
        return null;
    }

    /// <summary>
    /// Ends the login: waits for its sends, stops live delivery, lets queued frames reach the connection, writes
    /// cursors, and only then frees the user to log in elsewhere.
    /// </summary>
    public async Task EndAsync(ChatSession session)
    {
        if (session.User is not { } user)
        {
            return;
        }

        try
        {
            await user.LastSend;
            await sessions.RemoveAsync(user.Id, session, user.Groups());
            session.EndLogin();
            await session.WhenWrittenAsync();
            await cursors.FlushAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The store is away: the cursors stay queued for the writer's next tick. At worst the user gets a
            // message again at the next login (it carries its seq), never loses one.
            ServerLog.LogoutFlushFailed(log, ex, user.Id);
        }
        finally
        {
            session.EndLogin();
            await presence.ReleaseAsync(user.Id);
        }
    }
}
