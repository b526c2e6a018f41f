using System.Globalization;
using System.Numerics;

namespace Chat.Bench;

/// <summary>
/// Latency samples in microseconds, kept as a log-linear histogram: exact below 128 µs, within 1/64 (1.6 %)
/// above, in a fixed 30 KB whatever the number of samples. <see cref="Add"/> may be called from any thread.
/// </summary>
public sealed class Latencies
{
    private const int SubBits = 6;
    private const int Sub = 1 << SubBits;
    private const int Exact = 2 * Sub;
    private const int Buckets = Exact + ((64 - SubBits - 2) * Sub);

    private readonly long[] _counts = new long[Buckets];
    private long _count;
    private long _max;

    public int Count => (int)Math.Min(Volatile.Read(ref _count), int.MaxValue);

    public long LongCount => Volatile.Read(ref _count);

    public void Add(long micros)
    {
        var value = Math.Max(micros, 0);
        Interlocked.Increment(ref _counts[Index(value)]);
        Interlocked.Increment(ref _count);
        RaiseMax(value);
    }

    public void AddRange(Latencies other)
    {
        for (var i = 0; i < Buckets; i++)
        {
            var n = Volatile.Read(ref other._counts[i]);
            if (n != 0) Interlocked.Add(ref _counts[i], n);
        }

        Interlocked.Add(ref _count, other.LongCount);
        RaiseMax(Volatile.Read(ref other._max));
    }

    /// <summary>The p-th percentile in milliseconds (NaN without samples): the sample at rank ceil(p/100 · n).</summary>
    public double Percentile(double p)
    {
        var count = LongCount;
        if (count == 0) return double.NaN;
        var max = Volatile.Read(ref _max);
        var rank = Math.Clamp((long)Math.Ceiling(p / 100 * count), 1, count);
        if (rank == count) return max / 1000.0;
        long seen = 0;
        for (var i = 0; i < Buckets; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank) return Math.Min(Representative(i), max) / 1000.0;
        }

        return max / 1000.0;
    }

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"p50 {Percentile(50):F2} ms, p90 {Percentile(90):F2} ms, p99 {Percentile(99):F2} ms, max {Percentile(100):F2} ms");

    private void RaiseMax(long value)
    {
        var max = Volatile.Read(ref _max);
        while (value > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, value, max);
            if (seen == max) return;
            max = seen;
        }
    }

    private static int Index(long value)
    {
        if (value < Exact) return (int)value;
        var shift = BitOperations.Log2((ulong)value) - SubBits;
        return Exact + ((shift - 1) * Sub) + (int)((value >> shift) - Sub);
    }

    /// <summary>The middle of bucket <paramref name="index"/>'s range.</summary>
    private static long Representative(int index)
    {
        if (index < Exact) return index;
        var shift = ((index - Exact) / Sub) + 1;
        var top = ((index - Exact) % Sub) + Sub;
        return ((long)top << shift) + ((1L << shift) / 2);
    }
}
