namespace Chat.Server.Sessions;

/// <summary>
/// The read marks one login knows, per conversation: those its LOGIN_ACK carried, moved by its own READs. It decides
/// whether a READ moved the mark (and so is worth a READ_NOTICE); the store keeps the highest mark whatever it is told.
/// </summary>
public sealed class ReadMarks
{
    private readonly Dictionary<long, long> _marks = [];
    private readonly Lock _gate = new();

    /// <summary>Where the mark stood at login.</summary>
    public void Set(long conversationId, long seq)
    {
        lock (_gate) _marks[conversationId] = seq;
    }

    /// <returns>True when <paramref name="seq"/> lies beyond the mark, which then stands there; false otherwise (never back).</returns>
    public bool TryMove(long conversationId, long seq)
    {
        lock (_gate)
        {
            if (_marks.TryGetValue(conversationId, out var mark) && mark >= seq)
            {
                return false;
            }

            _marks[conversationId] = seq;
            return true;
        }
    }
}
