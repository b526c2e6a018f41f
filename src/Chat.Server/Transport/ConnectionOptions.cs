using System.ComponentModel.DataAnnotations;

namespace Chat.Server.Transport;

/// <summary>What one chat connection may cost (frame size, what it may have in flight either way, idleness) and how many a replica, an address and the not-yet-logged-in may hold (section <c>Chat</c>).</summary>
public sealed class ConnectionOptions
{
    /// <summary>Longest frame a client may send; a longer one gets ERROR and the connection is closed.</summary>
    [Range(256, 16 * 1024 * 1024)]
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Chat sends of one connection not yet stored; past it the connection is not read until one is. This bounds the
    /// memory a client can make a replica hold, and what it puts in the writer's batches ahead of everyone else.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxInFlightPerConnection { get; set; } = 64;

    /// <summary>Bytes a connection may have waiting to be written; a client that lets more pile up is disconnected.</summary>
    [Range(4 * 1024, 1024 * 1024 * 1024)]
    public int OutboundQueueBytes { get; set; } = 1024 * 1024;

    /// <summary>A connection that sends no complete frame for this long is closed (PING keeps it open).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// WebSocket keep-alive on <c>/ws</c>: the replica pings this often, and drops a client whose PONG has not come
    /// within as long again. It also keeps a balancer from taking an idle WebSocket for a dead one.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan WebSocketKeepAlive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Chat connections one replica serves at once; one more gets ERROR (errno 10) and is closed.</summary>
    [Range(1, 10_000_000)]
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>
    /// Chat connections one client address may hold on this replica at once (the PROXY protocol's address from a trusted
    /// balancer, or <c>X-Forwarded-For</c> on <c>/ws</c>, else the peer's); one more gets ERROR (errno 11) and is closed.
    /// The default leaves room for many users behind one NAT.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxConnectionsPerAddress { get; set; } = 200;

    /// <summary>A connection not logged in this long after it opened (or after LOGINOUT) is closed; PING does not extend it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan LoginDeadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Connections not logged in at once on this replica; when one more comes, the oldest of them is closed.</summary>
    [Range(1, 10_000_000)]
    public int MaxAnonymousConnections { get; set; } = 1_000;

    /// <summary>At shutdown (SIGTERM), how long open connections get to finish and log out before they are aborted.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
