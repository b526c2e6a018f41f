using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Telemetry;

/// <summary>
/// Records every measurement of the meters one replica created (its own <see cref="IMeterFactory"/>), so tests that
/// run in parallel against other replicas never see each other's figures.
/// </summary>
public sealed class MetricCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measurement> _measurements = new();

    public MetricCapture(IServiceProvider replicaServices)
    {
        var factory = replicaServices.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Add(i, value, tags));
        _listener.SetMeasurementEventCallback<int>((i, value, tags, _) => Add(i, value, tags));
        _listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Add(i, value, tags));
        _listener.Start();
    }

    public sealed record Measurement(string Instrument, string Meter, double Value, IReadOnlyDictionary<string, object?> Tags);

    /// <summary>Sum of the values of <paramref name="instrument"/> whose tag <paramref name="tag"/> is <paramref name="value"/> (any, without tag).</summary>
    public double Sum(string instrument, string? tag = null, object? value = null) =>
        Matching(instrument, tag, value).Sum(m => m.Value);

    public int Count(string instrument, string? tag = null, object? value = null) => Matching(instrument, tag, value).Count();

    public IEnumerable<Measurement> Matching(string instrument, string? tag = null, object? value = null) =>
        _measurements.Where(m => m.Instrument == instrument && (tag is null || Equals(m.Tags.GetValueOrDefault(tag), value)));

    /// <summary>Polls observable instruments (gauges) once.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new Measurement(instrument.Name, instrument.Meter.Name, value, copy));
    }
}
