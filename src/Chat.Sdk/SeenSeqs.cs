using Chat.Protocol;

namespace Chat.Sdk;

/// <summary>A conversation as a client sees it: a group by its id, a one-to-one chat by the other user's id.</summary>
public readonly record struct Conversation(bool IsGroup, int Id)
{
    /// <summary>The conversation of a chat frame, as user <paramref name="me"/> sees it.</summary>
    public static Conversation Of(in ChatPush chat, int me) => Of(chat.IsGroup, chat.SenderId, chat.TargetId, me);

    /// <summary>The conversation of an edit, recall or reaction, as user <paramref name="me"/> sees it.</summary>
    public static Conversation Of(in EventPush entry, int me) => Of(entry.IsGroup, entry.SenderId, entry.TargetId, me);

    /// <summary>Where LOGIN's <c>resume</c> picks this conversation up: after <paramref name="seq"/>.</summary>
    public ResumePoint ResumeAfter(long seq) => IsGroup ? new ResumePoint(null, Id, seq) : new ResumePoint(Id, null, seq);

    private static Conversation Of(bool isGroup, int senderId, int targetId, int me) =>
        isGroup ? new Conversation(true, targetId) : new Conversation(false, senderId == me ? targetId : senderId);
}

/// <summary>
/// The last seq seen per conversation. A conversation's frames arrive in seq order, so a frame at or below the
/// last seen seq is a repeat (delivery is at-least-once) and is dropped. Safe to use from several threads.
/// </summary>
public sealed class SeenSeqs
{
    private readonly Dictionary<Conversation, long> _last = [];

    /// <summary>True when <paramref name="seq"/> is new in <paramref name="conversation"/> (and records it).</summary>
    public bool TryAccept(Conversation conversation, long seq)
    {
        lock (_last)
        {
            if (_last.TryGetValue(conversation, out var last) && seq <= last)
            {
                return false;
            }

            _last[conversation] = seq;
            return true;
        }
    }

    /// <summary>The user's own message was stored as <paramref name="seq"/>: seen, though no frame brings it.</summary>
    public void Note(Conversation conversation, long seq) => TryAccept(conversation, seq);

    /// <summary>The last seq seen in <paramref name="conversation"/>; 0 when none.</summary>
    public long Last(Conversation conversation)
    {
        lock (_last)
        {
            return _last.GetValueOrDefault(conversation);
        }
    }

    public IReadOnlyList<ResumePoint> ResumePoints()
    {
        lock (_last)
        {
            return [.. _last.Select(p => p.Key.ResumeAfter(p.Value))];
        }
    }

    public void Clear()
    {
        lock (_last)
        {
            _last.Clear();
        }
    }
}
