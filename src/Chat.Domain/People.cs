namespace Chat.Domain;

/// <summary>What a user says about themselves (PROFILE): <see cref="Avatar"/> is an image file id, "" for none.</summary>
public sealed record Profile(int Id, string Name, string About, string Avatar);

/// <summary>Profiles, finding users by name, and blocks.</summary>
public interface IPeopleStore
{
    /// <summary>Changes what is given (null: left as it is) and returns the profile as it now stands.</summary>
    Task<Profile> SetProfileAsync(int userId, string name, string? about, string? avatar, CancellationToken ct);

    /// <summary>The profiles of these users that have one (about or avatar set).</summary>
    Task<IReadOnlyDictionary<int, Profile>> ProfilesAsync(IReadOnlyCollection<int> userIds, CancellationToken ct);

    /// <summary>Up to <paramref name="limit"/> users whose name starts with <paramref name="prefix"/>, ignoring case, by name.</summary>
    Task<IReadOnlyList<Profile>> FindAsync(string prefix, int limit, CancellationToken ct);

    /// <summary>Everyone with <paramref name="userId"/> in their friend list, or in whose list the user is.</summary>
    Task<IReadOnlyList<int>> FriendsEitherWayAsync(int userId, CancellationToken ct);

    /// <summary>Blocks (or unblocks) <paramref name="blockedId"/> for <paramref name="userId"/>; false when there is no such user.</summary>
    Task<bool> BlockAsync(int userId, int blockedId, bool on, CancellationToken ct);

    /// <summary>Whom <paramref name="userId"/> blocked.</summary>
    Task<IReadOnlyList<int>> BlockedByAsync(int userId, CancellationToken ct);

    /// <summary>Whom <paramref name="userId"/> blocked, and who blocked them, in one read (a login needs both).</summary>
    Task<BlocksOf> BlocksAsync(int userId, CancellationToken ct);
}

/// <summary>A user's blocks both ways: whom they blocked, and who blocked them.</summary>
public sealed record BlocksOf(IReadOnlyList<int> Blocked, IReadOnlyList<int> Blockers);

public static class PeopleRules
{
    public const int MaxAbout = 140;
    public const int MinQuery = 2;
    public const int MaxQuery = 32;
    public const int MaxFound = 20;
}
