using System.Net;
using Chat.Server.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Server.Sessions;

/// <summary>
/// Brute-force limits on LOGIN and REG: a count of failed attempts per connection, and a token bucket of failed
/// attempts per client address (one back every <see cref="LoginOptions.LoginAttemptRefill"/>). Only failures
/// spend: a correct password never counts against anyone, and one address's failures never touch another's.
/// </summary>
public sealed class LoginThrottle(IOptions<LoginOptions> options, TimeProvider time, ILogger<LoginThrottle> log)
{
    private readonly Lock _gate = new();

    // Per address, the moment its bucket is full again: each failure pushes it one refill interval later.
    private readonly Dictionary<IPAddress, DateTimeOffset> _fullAt = [];

    public int TrackedAddresses
    {
        get
        {
            lock (_gate)
            {
                return _fullAt.Count;
            }
        }
    }

    /// <summary>
    /// Null when the attempt may go ahead; otherwise why not (errno 11), checked before any password work. A
    /// refusal that closes the connection has already asked the session to close after its answer.
    /// </summary>
    public string? Refuse(ChatConnection connection)
    {
        if (Check(connection) is not { } refusal)
        {
            return null;
        }

        ServerLog.LoginThrottled(log, connection.ConnectionId, connection.RemoteAddress?.ToString(), refusal.Message);
        if (refusal.Close)
        {
            connection.CloseAfterReplies();
        }

        return refusal.Message;
    }

    private Refusal? Check(ChatConnection connection)
    {
        var settings = options.Value;
        if (connection.FailedLogins >= settings.LoginFailuresPerConnection)
        {
            return new Refusal($"too many failed attempts on this connection ({settings.LoginFailuresPerConnection}): reconnect and retry later", Close: true);
        }

        if (connection.RemoteAddress is not { } address)
        {
            return null;
        }

        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (!_fullAt.TryGetValue(address, out var fullAt) || fullAt <= now)
            {
                _fullAt.Remove(address);
                return null;
            }

            var wait = fullAt - now - (settings.LoginAttemptsPerAddress - 1) * settings.LoginAttemptRefill;
            return wait > TimeSpan.Zero
                ? new Refusal($"too many failed attempts from your address: retry in {Math.Ceiling(wait.TotalSeconds):0} s", Close: false)
                : null;
        }
    }

    /// <summary>Counts a failed attempt against the connection and its address.</summary>
    public void Failed(ChatConnection connection)
    {
        connection.FailedLogins++;
        if (connection.RemoteAddress is not { } address)
        {
            return;
        }

        var settings = options.Value;
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (!_fullAt.TryGetValue(address, out var fullAt))
            {
                if (_fullAt.Count >= settings.MaxTrackedAddresses)
                {
                    DropFull(now);
                }

                if (_fullAt.Count >= settings.MaxTrackedAddresses)
                {
                    // Every tracked address is still being held back: the new one goes untracked rather than
                    // evicting one that is.
                    return;
                }
            }

            _fullAt[address] = (fullAt > now ? fullAt : now) + settings.LoginAttemptRefill;
        }
    }

    private void DropFull(DateTimeOffset now)
    {
        foreach (var (address, fullAt) in _fullAt)
        {
            if (fullAt <= now)
            {
                _fullAt.Remove(address);
            }
        }
    }

    private sealed record Refusal(string Message, bool Close);
}
