using System.ComponentModel.DataAnnotations;

namespace Chat.Server.Hosting;

/// <summary>The <c>Chat</c> configuration section (environment: <c>Chat__Port</c> and so on).</summary>
public sealed class ChatServerOptions
{
    public const string Section = "Chat";

    /// <summary>Address both ports bind to.</summary>
    [Required]
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>The chat TCP port; 0 picks a free one.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 6000;

    /// <summary>The HTTP port for health endpoints; 0 picks a free one.</summary>
    [Range(0, 65535)]
    public int HttpPort { get; set; } = 8080;

    /// <summary>Longest frame a client may send; a longer one gets ERROR and the connection is closed.</summary>
    [Range(256, 16 * 1024 * 1024)]
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    /// <summary>Frames a connection may have waiting to be written before it is dropped as a slow consumer.</summary>
    [Range(16, 1_000_000)]
    public int OutboundQueueFrames { get; set; } = 4096;

    /// <summary>At most this many offline messages come in one LOGIN_ACK; the rest at the next login.</summary>
    [Range(1, 1_000_000)]
    public int MaxOfflineMessages { get; set; } = 10_000;

    /// <summary>PBKDF2 iterations for new password hashes.</summary>
    [Range(10_000, 10_000_000)]
    public int PasswordIterations { get; set; } = 100_000;

    /// <summary>How long a replica's claim on an online user lives without refresh (refreshed every third of it).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PresenceTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest chat text (UTF-16 characters). 4096 escaped as <c>\uXXXX</c> (6 bytes each) is 24 KiB, so a text
    /// of this length always fits in a frame of the default limit, in both directions.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxMessageChars { get; set; } = 4096;

    /// <summary>A connection that sends no complete frame for this long is closed (PING keeps it open).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Chat connections one replica serves at once; one more gets ERROR (errno 10) and is closed.</summary>
    [Range(1, 10_000_000)]
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Failed LOGIN/REG attempts one connection may make; the next gets errno 11 and a close.</summary>
    [Range(1, 1_000_000)]
    public int LoginFailuresPerConnection { get; set; } = 5;

    /// <summary>Failed LOGINs and REGs one client address may make in a burst before it gets errno 11.</summary>
    [Range(1, 1_000_000)]
    public int LoginAttemptsPerAddress { get; set; } = 20;

    /// <summary>An address gets one attempt back per this interval, up to <see cref="LoginAttemptsPerAddress"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan LoginAttemptRefill { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Addresses whose attempts are tracked at once; beyond it, new addresses go untracked until entries expire.</summary>
    [Range(1, 10_000_000)]
    public int MaxTrackedAddresses { get; set; } = 100_000;

    /// <summary>TLS on the chat port (<c>Chat:Tls:*</c>); off unless a certificate is given.</summary>
    public ChatTlsOptions Tls { get; set; } = new();

    /// <summary>This replica's name in presence and logs.</summary>
    [Required]
    public string ReplicaId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>At shutdown (SIGTERM), how long open connections get to finish and log out before they are aborted.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Addresses or networks (CIDR) of load balancers that send the PROXY protocol (nginx: <c>proxy_protocol on</c>).
    /// From them, a PROXY line at the start of a connection names the real client, for the login limits and logs.
    /// Empty (the default): no PROXY line is read from anyone.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];
}
