using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Server.Sessions;

/// <summary>What a LOGIN or REG is about to cost, for <see cref="LoginThrottle.Refuse"/>.</summary>
public enum LoginAttempt
{
    /// <summary>REG: a password hash and an account, every time.</summary>
    Register,

    /// <summary>LOGIN with a password: a password check, every time.</summary>
    Password,

    /// <summary>LOGIN with a session token: cheap, so only its failures count.</summary>
    Token,
}

/// <summary>
/// Limits on unauthenticated work, per connection and per client address (token buckets, <see cref="AddressBuckets"/>):
/// failed LOGINs and REGs (a burst of <see cref="LoginOptions.LoginAttemptsPerAddress"/>); every REG, successful or
/// not (<see cref="LoginOptions.RegistrationsPerAddress"/>); every password check
/// (<see cref="LoginOptions.PasswordLoginsPerAddress"/>). A refusal is errno 11, answered before any password work.
/// One address's attempts never touch another's.
/// </summary>
public sealed class LoginThrottle
{
    private readonly IOptions<LoginOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LoginThrottle> _log;
    private readonly AddressBuckets _failures;
    private readonly AddressBuckets _registrations;
    private readonly AddressBuckets _passwords;

    public LoginThrottle(IOptions<LoginOptions> options, TimeProvider time, ILogger<LoginThrottle> log)
    {
        _options = options;
        _time = time;
        _log = log;
        var o = options.Value;
        _failures = new AddressBuckets(o.LoginAttemptsPerAddress, o.LoginAttemptRefill, o.MaxTrackedAddresses, time);
        _registrations = new AddressBuckets(o.RegistrationsPerAddress, o.RegistrationRefill, o.MaxTrackedAddresses, time);
        _passwords = new AddressBuckets(o.PasswordLoginsPerAddress, o.PasswordLoginRefill, o.MaxTrackedAddresses, time);
    }

    /// <summary>Addresses held back by any of the limits (entries, so one address may count more than once).</summary>
    public int TrackedAddresses => _failures.Tracked + _registrations.Tracked + _passwords.Tracked;

    /// <summary>
    /// Null when the attempt may go ahead (and has been counted, for those counted whatever their outcome); otherwise
    /// why not (errno 11), checked before any password work. A refusal that closes the connection has already asked
    /// the session to close after its answer.
    /// </summary>
    public string? Refuse(RequestContext context, LoginAttempt attempt)
    {
        if (Check(context, attempt) is not { } refusal)
        {
            return null;
        }

        var connection = context.Connection;
        if (!context.ThrottleReported)
        {
            // Once per connection: a client hammering on refusals must not turn each one into a log line.
            context.ThrottleReported = true;
            ServerLog.LoginThrottled(_log, connection.ConnectionId, connection.RemoteAddress?.ToString(), refusal.Message);
        }

        if (refusal.Close)
        {
            connection.CloseAfterReplies();
        }

        return refusal.Message;
    }

    /// <summary>
    /// <see cref="Refuse"/>, with a refusal answered only after <see cref="LoginOptions.ThrottledReplyDelay"/>: the
    /// connection is not read meanwhile, so a client hammering on refusals is slowed to one a delay, and a flood of them
    /// costs the replica next to nothing.
    /// </summary>
    public async ValueTask<string?> RefuseAsync(RequestContext context, LoginAttempt attempt, CancellationToken ct)
    {
        if (Refuse(context, attempt) is not { } refusal)
        {
            return null;
        }

        if (!context.Connection.Closing)
        {
            await Task.Delay(_options.Value.ThrottledReplyDelay, _time, ct);
        }

        return refusal;
    }

    /// <summary>Counts a failed attempt against the connection and its address.</summary>
    public void Failed(RequestContext context)
    {
        context.FailedLogins++;
        if (context.Connection.RemoteAddress is { } address)
        {
            _failures.Spend(address);
        }
    }

    private Refusal? Check(RequestContext context, LoginAttempt attempt)
    {
        var settings = _options.Value;
        if (context.FailedLogins >= settings.LoginFailuresPerConnection)
        {
            return new Refusal($"too many failed attempts on this connection ({settings.LoginFailuresPerConnection}): reconnect and retry later", Close: true);
        }

        if (context.Connection.RemoteAddress is not { } address)
        {
            return null;
        }

        if (_failures.Wait(address) is var failing && failing > TimeSpan.Zero)
        {
            return Held("too many failed attempts from your address", failing);
        }

        var bucket = attempt switch
        {
            LoginAttempt.Register => _registrations,
            LoginAttempt.Password => _passwords,
            _ => null,
        };
        if (bucket is not null && !bucket.TrySpend(address, out var wait))
        {
            return Held(attempt == LoginAttempt.Register ? "too many registrations from your address" : "too many logins from your address", wait);
        }

        return null;
    }

    private static Refusal Held(string what, TimeSpan wait) => new($"{what}: retry in {Math.Ceiling(wait.TotalSeconds):0} s", Close: false);

    private sealed record Refusal(string Message, bool Close);
}
