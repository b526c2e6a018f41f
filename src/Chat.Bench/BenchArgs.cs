using System.Globalization;
using System.Net;

namespace Chat.Bench;

/// <summary>--name value pairs and --flags, with defaults.</summary>
public sealed class BenchArgs(Dictionary<string, string?> values)
{
    public static BenchArgs Parse(string[] args)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            }

            var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            values[args[i][2..]] = hasValue ? args[++i] : null;
        }

        return new BenchArgs(values);
    }

    public string? Text(string name) => values.GetValueOrDefault(name);

    public int Number(string name, int fallback) =>
        values.TryGetValue(name, out var v) && v is not null ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Real(string name, double fallback) =>
        values.TryGetValue(name, out var v) && v is not null ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public bool Flag(string name) => values.ContainsKey(name);

    /// <summary>A comma-separated list of host:port (IPv4 or [IPv6]:port), in order.</summary>
    public IReadOnlyList<IPEndPoint> Endpoints(string name, string fallback) =>
        [.. (Text(name) ?? fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseEndpoint)];

    /// <summary>A comma-separated list of integers (e.g. process ids); empty when absent.</summary>
    public IReadOnlyList<int> Numbers(string name) =>
        [.. (Text(name) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => int.Parse(n, CultureInfo.InvariantCulture))];

    private static IPEndPoint ParseEndpoint(string text) =>
        IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0
            ? endpoint
            : throw new ArgumentException($"'{text}' is not an address:port (e.g. 127.0.0.1:6000)");
}
