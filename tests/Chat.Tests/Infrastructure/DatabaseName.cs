using System.Text;

namespace Chat.Tests.Infrastructure;

/// <summary>Names for the test servers' throwaway databases.</summary>
public static class DatabaseName
{
    /// <summary>[a-z0-9_] only, at most 63 bytes (PostgreSQL's identifier limit), unique per call.</summary>
    public static string From(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var clean = new StringBuilder();
        foreach (var ch in prefix.ToLowerInvariant())
        {
            clean.Append(ch is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' ? ch : '_');
        }

        if (clean.Length == 0 || char.IsDigit(clean[0]))
        {
            clean.Insert(0, "db_");
        }

        var suffix = "_" + Guid.NewGuid().ToString("N")[..12];
        var head = clean.ToString();
        return (head.Length + suffix.Length > 63 ? head[..(63 - suffix.Length)] : head) + suffix;
    }
}
