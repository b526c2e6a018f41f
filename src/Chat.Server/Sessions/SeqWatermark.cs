namespace Chat.Server.Sessions;

/// <summary>
/// The highest seq up to which every message of one conversation has been seen, plus the seqs seen beyond a
/// gap. A delivered-cursor may only move along <see cref="Contiguous"/>: a message lost in transit keeps the gap
/// open, so it comes again at the next login instead of being skipped.
/// </summary>
public sealed class SeqWatermark(long start)
{
    private SortedSet<long>? _ahead;

    public long Contiguous { get; private set; } = start;

    public bool Contains(long seq) => seq <= Contiguous || (_ahead?.Contains(seq) ?? false);

    /// <returns>True when <see cref="Contiguous"/> moved.</returns>
    public bool Add(long seq)
    {
        if (seq <= Contiguous)
        {
            return false;
        }

        if (seq != Contiguous + 1)
        {
            (_ahead ??= []).Add(seq);
            return false;
        }

        Contiguous = seq;
        Absorb();
        return true;
    }

    /// <summary>Counts everything up to <paramref name="seq"/> as seen (a gap given up, or a start moved forward).</summary>
    public void Skip(long seq)
    {
        if (seq <= Contiguous)
        {
            return;
        }

        Contiguous = seq;
        _ahead?.RemoveWhere(s => s <= seq);
        Absorb();
    }

    /// <summary>Seqs seen beyond the old gap that now continue the run join it.</summary>
    private void Absorb()
    {
        while (_ahead is { Count: > 0 } && _ahead.Min == Contiguous + 1)
        {
            Contiguous = _ahead.Min;
            _ahead.Remove(Contiguous);
        }
    }
}
