using System.Diagnostics.Metrics;

namespace Chat.Persistence;

/// <summary>The store's instruments, on the <c>Chat.Store</c> meter. Recording costs nothing while nobody listens.</summary>
public sealed class StoreMetrics
{
    public const string MeterName = "Chat.Store";

    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _failedBatches;

    public StoreMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        _commitDuration = Meter.CreateHistogram<double>("chat.store.commit.duration", "ms", "Time to commit one batch of messages");
        _batchSize = Meter.CreateHistogram<int>("chat.store.batch.size", "{message}", "Messages committed by one statement");
        _failedBatches = Meter.CreateCounter<long>("chat.store.batch.failures", "{batch}", "Batches that failed; their senders got the error");
    }

    public Meter Meter { get; }

    public void Committed(int messages, TimeSpan elapsed)
    {
        _commitDuration.Record(elapsed.TotalMilliseconds);
        _batchSize.Record(messages);
    }

    public void Failed() => _failedBatches.Add(1);
}
