using System.ComponentModel.DataAnnotations;

namespace Chat.Persistence;

/// <summary>Which database engine holds the chat's state (<c>Chat:Store:Provider</c>).</summary>
public enum StoreProviderName
{
    /// <summary>MySQL or MariaDB through Pomelo and MySqlConnector: the card's store, and the cluster's default.</summary>
    MySql,

    /// <summary>PostgreSQL through Npgsql.</summary>
    Postgres,

    /// <summary>A local SQLite file: a single node, nothing to install.</summary>
    Sqlite,
}

/// <summary>The store and the tuning of its batching writers, bound from <c>Chat:Store</c>.</summary>
public sealed class StoreOptions
{
    public const string Section = "Chat:Store";

    /// <summary>
    /// <c>mysql</c>, <c>postgres</c> or <c>sqlite</c>. Unset: SQLite when no connection string <c>Chat</c> is
    /// configured either; a connection string without a provider is refused (it could be any of them).
    /// </summary>
    public StoreProviderName? Provider { get; set; }

    /// <summary>
    /// The MySQL or MariaDB version to generate SQL for (Pomelo's <c>ServerVersion</c> syntax), so a replica need not
    /// ask the server before it can start: Debian 12's MariaDB by default.
    /// </summary>
    [Required]
    public string MySqlServerVersion { get; set; } = "10.11.0-mariadb";

    /// <summary>Most messages committed by one transaction.</summary>
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

    /// <summary>
    /// How long a writer keeps trying a batch when its database connection is lost (a Galera node died, a network
    /// cut): reconnecting, to the next server of the connection string when it names several, and first learning
    /// whether the lost commit went through. Past it, the batch's senders get an error.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan FailoverTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Group commit's wait (PostgreSQL's <c>commit_delay</c> with <c>commit_siblings</c>): when the last batch held
    /// more than one message (other senders are active) and at most half as many are queued now, a writer waits up
    /// to this long for the queue to hold as many again before it commits: fewer, larger transactions when the
    /// senders, not the writer, are what a batch waits for. Zero: it commits what is queued at once. A lone sender
    /// never waits.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan CommitDelay { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>How often advanced delivered-cursors are written.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan CursorFlushInterval { get; set; } = TimeSpan.FromMilliseconds(50);
}
