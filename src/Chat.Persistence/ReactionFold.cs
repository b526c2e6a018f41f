using System.Globalization;
using Chat.Domain;

namespace Chat.Persistence;

/// <summary>
/// Reads <see cref="MessageEntity.Reactions"/>: <c>user:emoji</c> per reaction, space-separated, in the order they were
/// made (an emoji holds no white space; it may hold a colon, so the first one ends the user).
/// </summary>
internal static class ReactionFold
{
    /// <summary>The reactions grouped by emoji: emoji in the order first used, users in the order they reacted.</summary>
    public static IReadOnlyList<ReactionGroup> Read(string? folded)
    {
        if (string.IsNullOrEmpty(folded))
        {
            return [];
        }

        var groups = new List<(string Emoji, List<int> Users)>();
        foreach (var reaction in folded.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = reaction.IndexOf(':');
            var user = int.Parse(reaction.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture);
            var emoji = reaction[(colon + 1)..];
            var group = groups.FindIndex(g => g.Emoji == emoji);
            if (group < 0)
            {
                groups.Add((emoji, [user]));
            }
            else
            {
                groups[group].Users.Add(user);
            }
        }

        return [.. groups.Select(g => new ReactionGroup(g.Emoji, g.Users))];
    }
}
