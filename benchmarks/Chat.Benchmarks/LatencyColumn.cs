using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Chat.Benchmarks;

/// <summary>A percentile of single operations' latency in milliseconds, over what the benchmark recorded for a case.</summary>
internal sealed class LatencyColumn(int percentile, Func<BenchmarkCase, IReadOnlyList<double>?> recorded) : IColumn
{
    public string Id => "p" + percentile.ToString(CultureInfo.InvariantCulture);

    public string ColumnName => Id + " ms";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => percentile;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => $"{percentile}th percentile of one operation's latency, milliseconds";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        if (recorded(benchmarkCase) is not { Count: > 0 } latencies)
        {
            return "-";
        }

        var sorted = latencies.Order().ToArray();
        var index = (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)].ToString("F2", CultureInfo.InvariantCulture);
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}
