using Chat.Bench;

namespace Chat.Tests.Bench;

[Trait("Kind", "Unit")]
public sealed class LatenciesTests
{
    [Fact]
    public void Without_samples_every_percentile_is_NaN()
    {
        Assert.True(double.IsNaN(new Latencies().Percentile(50)));
    }

    [Fact]
    public void Small_values_are_exact()
    {
        var latencies = new Latencies();
        for (var us = 1; us <= 100; us++) latencies.Add(us);

        Assert.Equal(100, latencies.Count);
        Assert.Equal(0.050, latencies.Percentile(50));
        Assert.Equal(0.090, latencies.Percentile(90));
        Assert.Equal(0.099, latencies.Percentile(99));
        Assert.Equal(0.100, latencies.Percentile(100));
        Assert.Equal(0.001, latencies.Percentile(0));
    }

    [Fact]
    public void Large_values_are_within_two_percent_and_the_max_is_exact()
    {
        var latencies = new Latencies();
        var random = new Random(7);
        var samples = Enumerable.Range(0, 100_000).Select(_ => (long)(random.NextDouble() * random.NextDouble() * 5_000_000)).ToArray();
        foreach (var s in samples) latencies.Add(s);
        Array.Sort(samples);

        foreach (var p in new[] { 50.0, 90, 99, 99.9 })
        {
            var exact = samples[(int)Math.Ceiling(p / 100 * samples.Length) - 1] / 1000.0;
            Assert.InRange(latencies.Percentile(p), exact * 0.98, exact * 1.02);
        }

        Assert.Equal(samples[^1] / 1000.0, latencies.Percentile(100));
    }

    [Fact]
    public void Millions_of_samples_from_several_threads_are_all_counted()
    {
        var latencies = new Latencies();
        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 1_000_000; i++) latencies.Add(i % 1000);
        });

        Assert.Equal(4_000_000, latencies.LongCount);
        Assert.Equal(0.999, latencies.Percentile(100));
        Assert.InRange(latencies.Percentile(50), 0.499 * 0.98, 0.499 * 1.02);
    }

    [Fact]
    public void AddRange_merges_counts_and_max()
    {
        var a = new Latencies();
        var b = new Latencies();
        a.Add(10);
        b.Add(20);
        b.Add(1_000_000);

        a.AddRange(b);

        Assert.Equal(3, a.Count);
        Assert.Equal(0.020, a.Percentile(50));
        Assert.Equal(1000.0, a.Percentile(100));
    }

    [Fact]
    public void Negative_samples_count_as_zero()
    {
        var latencies = new Latencies();
        latencies.Add(-5);
        Assert.Equal(0, latencies.Percentile(100));
    }
}
