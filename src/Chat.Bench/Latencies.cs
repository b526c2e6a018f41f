using System.Globalization;

namespace Chat.Bench;

/// <summary>Latency samples in microseconds, summarised as percentiles.</summary>
public sealed class Latencies
{
    private readonly List<long> _micros = [];

    public int Count => _micros.Count;

    public void Add(long micros) => _micros.Add(micros);

    public void AddRange(Latencies other) => _micros.AddRange(other._micros);

    public double Percentile(double p)
    {
        if (_micros.Count == 0) return double.NaN;
        _micros.Sort();
        var index = (int)Math.Ceiling(p / 100 * _micros.Count) - 1;
        return _micros[Math.Clamp(index, 0, _micros.Count - 1)] / 1000.0;
    }

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"p50 {Percentile(50):F2} ms, p90 {Percentile(90):F2} ms, p99 {Percentile(99):F2} ms, max {Percentile(100):F2} ms");
}
