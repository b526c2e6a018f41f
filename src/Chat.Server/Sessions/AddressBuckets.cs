using System.Net;

namespace Chat.Server.Sessions;

/// <summary>
/// A token bucket per client address: <c>burst</c> spends at once, then one more per <c>refill</c>. Each bucket is
/// kept as the moment it is full again (each spend pushes it one interval later), so a full bucket is no entry at
/// all and the table holds only addresses being held back, at most <c>maxTracked</c> of them.
/// </summary>
public sealed class AddressBuckets(int burst, TimeSpan refill, int maxTracked, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, DateTimeOffset> _fullAt = [];

    public int Tracked
    {
        get
        {
            lock (_gate) return _fullAt.Count;
        }
    }

    /// <summary>How long until the address may spend again; zero when it may now.</summary>
    public TimeSpan Wait(IPAddress address)
    {
        lock (_gate)
        {
            return WaitLocked(address, time.GetUtcNow());
        }
    }

    /// <summary>Spends one unit of the address's bucket if it has one; otherwise says how long until it will.</summary>
    public bool TrySpend(IPAddress address, out TimeSpan wait)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            wait = WaitLocked(address, now);
            if (wait > TimeSpan.Zero)
            {
                return false;
            }

            SpendLocked(address, now);
            return true;
        }
    }

    /// <summary>Spends one unit whether or not the bucket has one (a failure that already happened).</summary>
    public void Spend(IPAddress address)
    {
        lock (_gate)
        {
            SpendLocked(address, time.GetUtcNow());
        }
    }

    private TimeSpan WaitLocked(IPAddress address, DateTimeOffset now)
    {
        if (!_fullAt.TryGetValue(address, out var fullAt) || fullAt <= now)
        {
            _fullAt.Remove(address);
            return TimeSpan.Zero;
        }

        var wait = fullAt - now - (burst - 1) * refill;
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }

    private void SpendLocked(IPAddress address, DateTimeOffset now)
    {
        if (!_fullAt.TryGetValue(address, out var fullAt))
        {
            if (_fullAt.Count >= maxTracked)
            {
                DropFull(now);
            }

            if (_fullAt.Count >= maxTracked)
            {
                // Every tracked address is still being held back: the new one goes untracked rather than
                // evicting one that is.
                return;
            }
        }

        _fullAt[address] = (fullAt > now ? fullAt : now) + refill;
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
}
