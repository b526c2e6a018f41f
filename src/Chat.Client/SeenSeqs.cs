using Chat.Protocol;

namespace Chat.Client;

/// <summary>A conversation as the client sees it: a group by its id, a one-to-one chat by the other user's id.</summary>
public readonly record struct Conversation(bool IsGroup, int Id)
{
    /// <summary>Where LOGIN's <c>resume</c> picks this conversation up: after <paramref name="seq"/>.</summary>
    public ResumePoint ResumeAfter(long seq) => IsGroup ? new ResumePoint(null, Id, seq) : new ResumePoint(Id, null, seq);
}

/// <summary>
/// The last seq seen per conversation. A conversation's frames arrive in seq order, so a frame at or below the
/// last seen seq is a repeat (delivery is at-least-once) and is dropped.
/// </summary>
public sealed class SeenSeqs
{
    private readonly Dictionary<Conversation, long> _last = [];

    /// <summary>True when <paramref name="seq"/> is new in <paramref name="conversation"/> (and records it).</summary>
    public bool TryAccept(Conversation conversation, long seq)
    {
        if (_last.TryGetValue(conversation, out var last) && seq <= last)
        {
            return false;
        }

        _last[conversation] = seq;
        return true;
    }

    public IReadOnlyList<ResumePoint> ResumePoints() => [.. _last.Select(p => p.Key.ResumeAfter(p.Value))];

    public void Clear() => _last.Clear();
}
