namespace Chat.Domain;

/// <summary>
/// A conversation is either a pair of users or a group. Its id is one <see cref="long"/>: a group's
/// conversation is the group id (positive); a pair's is <c>-(lo &lt;&lt; 31 | hi)</c> with lo &lt; hi
/// (negative), so both kinds share one sequence space without a lookup table.
/// </summary>
public static class ConversationId
{
    public static long Group(int groupId) => groupId;

    public static long Direct(int a, int b)
    {
        var (lo, hi) = a < b ? (a, b) : (b, a);
        return -(((long)lo << 31) | (uint)hi);
    }

    public static bool IsGroup(long conversationId) => conversationId > 0;

    /// <summary>The other participant of a direct conversation.</summary>
    public static int Peer(long conversationId, int userId)
    {
        var v = -conversationId;
        var lo = (int)(v >> 31);
        var hi = (int)(v & int.MaxValue);
        return userId == lo ? hi : lo;
    }
}
