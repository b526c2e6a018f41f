namespace Chat.Domain;

/// <summary>The rules for names and texts users choose; each returns the problem, or null when the value is fine.</summary>
public static class Validation
{
    public const int MaxNameLength = 64;
    public const int MaxPasswordLength = 128;
    public const int MaxGroupDescriptionLength = 512;

    public static string? UserName(string? name) => Name(name, "name");

    public static string? GroupName(string? name) => Name(name, "groupname");

    public static string? Password(string? password) => password switch
    {
        null or "" => "password must not be empty",
        { Length: > MaxPasswordLength } => $"password must be at most {MaxPasswordLength} characters",
        _ => null,
    };

    public static string? GroupDescription(string? description) =>
        description is { Length: > MaxGroupDescriptionLength }
            ? $"groupdesc must be at most {MaxGroupDescriptionLength} characters"
            : null;

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

        return name.Any(char.IsControl) ? $"{field} must not contain control characters" : null;
    }
}
