using Microsoft.Extensions.Options;

namespace Chat.Server.Sessions;

/// <summary>
/// Bounds the logins being set up at once on this replica (claim, subscriptions, friends, groups, inbox: several
/// database reads each), after their credentials are checked. In a storm the rest wait in a bounded line, and beyond
/// it are refused at once (errno 10): the database and the CPU keep room for the chat of users already logged in.
/// </summary>
public sealed class LoginGate(IOptions<LoginOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _running = new(options.Value.MaxConcurrentLogins);
    private int _waiting;

    /// <summary>A slot to set up one login, to dispose when it is done; null when the line is full.</summary>
    public async ValueTask<IDisposable?> EnterAsync(CancellationToken ct)
    {
        if (_running.Wait(0, CancellationToken.None))
        {
            return new Slot(_running);
        }

        if (Interlocked.Increment(ref _waiting) > options.Value.LoginQueue)
        {
            Interlocked.Decrement(ref _waiting);
            return null;
        }

        try
        {
            await _running.WaitAsync(ct);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return new Slot(_running);
    }

    public void Dispose() => _running.Dispose();

    private sealed class Slot(SemaphoreSlim running) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                running.Release();
            }
        }
    }
}
