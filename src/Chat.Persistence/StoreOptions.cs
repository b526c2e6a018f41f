using System.ComponentModel.DataAnnotations;

namespace Chat.Persistence;

/// <summary>Tuning of the batching writers, bound from <c>Chat:Store</c>.</summary>
public sealed class StoreOptions
{
    public const string Section = "Chat:Store";

    /// <summary>Most messages committed by one statement.</summary>
    [Range(1, 65_536)]
    public int MaxBatch { get; set; } = 2_048;

    /// <summary>
    /// Batches in flight at once, each from its own queue on its own connection (a conversation always uses the
    /// same one, so its messages keep their queue order). More lanes mean smaller batches: on two cores, 1 is
    /// best up to ~100 concurrent senders and 2 beyond.
    /// </summary>
    [Range(1, 64)]
    public int WriterLanes { get; set; } = 1;

    /// <summary>Messages waiting for the writer (all lanes together) before <c>AppendAsync</c> waits too.</summary>
    [Range(1, 1_048_576)]
    public int WriterQueueCapacity { get; set; } = 65_536;

    /// <summary>How often advanced delivered-cursors are written.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan CursorFlushInterval { get; set; } = TimeSpan.FromMilliseconds(50);
}
