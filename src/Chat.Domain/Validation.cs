namespace Chat.Domain;

/// <summary>The rules for names and texts users choose; each returns the problem, or null when the value is fine.</summary>
public static class Validation
{
    public const int MaxNameLength = 64;
    public const int MaxPasswordLength = 128;
    public const int MaxGroupDescriptionLength = 512;
    public const int MaxClientTimeLength = 64;
    public const int MaxBanReasonLength = 256;

    /// <summary>The longest cid the log keeps (its column; the wire allows no more either).</summary>
    public const int MaxClientIdLength = 64;

    public static string? UserName(string? name) => Name(name, "name");

    public static string? GroupName(string? name) => Name(name, "groupname");

    /// <summary>A new password (REG): at least <paramref name="minLength"/> characters. Logins check no length, so accounts
    /// made under an older rule keep logging in.</summary>
    public static string? Password(string? password, int minLength = 1) => password switch
    {
        null or "" => "password must not be empty",
        { Length: > MaxPasswordLength } => $"password must be at most {MaxPasswordLength} characters",
        _ when password.Length < minLength => $"password must be at least {minLength} characters",
        _ => null,
    };

    /// <summary>An operator's reason for a ban: users see it when their login is refused.</summary>
    public static string? BanReason(string? reason) => reason switch
    {
        null or "" => "reason must not be empty",
        { Length: > MaxBanReasonLength } => $"reason must be at most {MaxBanReasonLength} characters",
        _ => Storable(reason, "reason"),
    };

    public static string? GroupDescription(string? description) =>
        description is { Length: > MaxGroupDescriptionLength }
            ? $"groupdesc must be at most {MaxGroupDescriptionLength} characters"
            : Storable(description, "groupdesc");

    /// <summary>A chat text, the seed's free-text time field and the client's cid, as the log stores them.</summary>
    public static string? ChatMessage(string text, string? clientTime, string? clientId) =>
        Storable(text, "msg")
        ?? (clientTime is { Length: > MaxClientTimeLength } ? $"time must be at most {MaxClientTimeLength} characters" : null)
        ?? Storable(clientTime, "time")
        ?? ClientId(clientId);

    /// <summary>
    /// A cid as the log keeps it, to find a resent message by. MySQL's binary collations compare with trailing spaces
    /// padded away ("c1" and "c1 " would be one cid there): refused on every engine alike.
    /// </summary>
    public static string? ClientId(string? clientId) => clientId switch
    {
        null => null,
        { Length: > MaxClientIdLength } => $"cid must be at most {MaxClientIdLength} characters",
        _ when clientId.EndsWith(' ') => "cid must not end with a space",
        _ => Storable(clientId, "cid"),
    };

    /// <summary>Text a database can hold: no NUL, and no half of a surrogate pair (JSON can spell both).</summary>
    public static bool IsStorable(ReadOnlySpan<char> text)
    {
        if (text.Contains('\0'))
        {
            return false;
        }

        // The common case, no surrogates at all, is one vectorised scan.
        var i = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (i >= 0 && i < text.Length)
        {
            if (!char.IsHighSurrogate(text[i]) || i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1]))
            {
                return false;
            }

            var next = text[(i + 2)..].IndexOfAnyInRange('\uD800', '\uDFFF');
            i = next < 0 ? -1 : i + 2 + next;
        }

        return true;
    }

    private static string? Storable(string? text, string field) =>
        text is null || IsStorable(text) ? null : $"{field} must not contain NUL or unpaired surrogates";

    private static string? Name(string? name, string field)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return $"{field} must not be empty";
        }

        if (name.Length > MaxNameLength)
        {
            return $"{field} must be at most {MaxNameLength} characters";
        }

        if (name.Trim().Length != name.Length)
        {
            return $"{field} must not start or end with white space";
        }

        if (name.Any(char.IsControl))
        {
            return $"{field} must not contain control characters";
        }

        return name.EnumerateRunes().Any(IsFormat) ? $"{field} must not contain invisible formatting characters (such as direction overrides)" : Storable(name, field);
    }

    /// <summary>
    /// Unicode category Cf: invisible characters that change how text around them is shown, such as U+202E (the
    /// right-to-left override, which shows a name reversed), zero-width joiners and spaces, U+FEFF, soft hyphens, and
    /// beyond the BMP the tag characters.
    /// </summary>
    private static bool IsFormat(System.Text.Rune rune) => System.Text.Rune.GetUnicodeCategory(rune) == System.Globalization.UnicodeCategory.Format;
}
