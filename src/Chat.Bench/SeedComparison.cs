using System.Globalization;
using System.Text.Json;

namespace Chat.Bench;

/// <summary>
/// compare: reads the JSON lines of seed-pingpong runs labelled with <c>--label</c> (seed, chat, …) and <c>--round</c>,
/// and prints one markdown table: each run's rate as a ratio to the seed's same-server 50-pair rate of the same round,
/// latency, lost messages and server CPU per delivered message (with its parts), then the median over rounds.
/// </summary>
public static class SeedComparison
{
    public static void Write(IEnumerable<string> jsonLines, TextWriter output)
    {
        var runs = jsonLines.Where(l => l.TrimStart().StartsWith('{')).Select(Run.Parse).ToList();
        var order = runs.Select(r => r.Workload).Distinct().ToList(); // workloads in the order they ran
        var reference = runs.Where(r => r.Label == "seed" && r.Pairs == 50 && r.Endpoints == 1)
            .ToDictionary(r => r.Round, r => r.Rate);
        output.WriteLine("| round | system | workload | msg/s | × seed same-server 50 pairs | p50 | p99 | lost | server CPU µs/msg | parts (µs/msg) | load |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in runs.OrderBy(r => r.Round).ThenBy(r => order.IndexOf(r.Workload)).ThenBy(r => r.Label, StringComparer.Ordinal))
        {
            output.WriteLine(Invariant($"| {r.Round} | {r.Label} | {r.Workload} | {r.Rate:N0} | {Ratio(r.Rate, reference.GetValueOrDefault(r.Round))} | {Ms(r.P50)} | {Ms(r.P99)} | {r.Lost:N0} | {Micros(r.Cpu)} | {r.Parts} | {r.Load:F1} |"));
        }

        if (runs.Select(r => r.Round).Distinct().Count() < 2) return;
        output.WriteLine();
        output.WriteLine("Median over rounds:");
        output.WriteLine();
        output.WriteLine("| system | workload | msg/s | × seed same-server 50 pairs | p50 | p99 | lost (all rounds) | server CPU µs/msg |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        var seedRate = Median(runs.Where(r => r.Label == "seed" && r.Pairs == 50 && r.Endpoints == 1).Select(r => r.Rate));
        foreach (var g in runs.GroupBy(r => (r.Workload, r.Label)).OrderBy(g => order.IndexOf(g.Key.Workload)).ThenBy(g => g.Key.Label, StringComparer.Ordinal))
        {
            var rate = Median(g.Select(r => r.Rate));
            output.WriteLine(Invariant($"| {g.Key.Label} | {g.Key.Workload} | {rate:N0} | {Ratio(rate, seedRate)} | {Ms(Median(g.Select(r => r.P50)))} | {Ms(Median(g.Select(r => r.P99)))} | {g.Sum(r => r.Lost):N0} | {Micros(Median(g.Select(r => r.Cpu)))} |"));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Ratio(double rate, double reference) =>
        reference > 0 ? Invariant($"{rate / reference:F2}×") : "–";

    private static string Ms(double ms) => double.IsNaN(ms) ? "–" : Invariant($"{ms:F2} ms");

    private static string Micros(double us) => double.IsNaN(us) ? "–" : Invariant($"{us:F0}");

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed record Run(string Label, int Round, int Pairs, int Endpoints, double Rate, double P50, double P99, long Lost, double Cpu, string Parts, double Load)
    {
        public string Workload => (Endpoints == 1 ? "same server" : "across servers") + (Pairs == 1 ? ", 1 pair" : Invariant($", {Pairs} pairs"));

        public static Run Parse(string line)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var parts = root.TryGetProperty("serverCpu", out var cpu)
                ? string.Join(", ", cpu.EnumerateArray().Select(p => $"{p.GetProperty("process").GetString()} {Micros(Number(p, "usPerMsg"))}"))
                : "";
            return new Run(
                root.TryGetProperty("label", out var label) ? label.GetString() ?? "?" : "?",
                (int)Number(root, "round", 1),
                (int)Number(root, "pairs", 0),
                (int)Number(root, "endpoints", 1),
                Number(root, "deliveredPerSecond"),
                Number(root, "p50Ms"),
                Number(root, "p99Ms"),
                (long)Number(root, "lost", 0),
                Number(root, "serverCpuUsPerMsg"),
                parts,
                Number(root, "loadAverage"));
        }

        private static double Number(JsonElement e, string name, double fallback = double.NaN) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
    }
}
