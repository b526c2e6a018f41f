using Chat.Server.Transport;

namespace Chat.Server.Sessions;

/// <summary>
/// One connection as its requests see it (SignalR keeps the same on <c>HubConnectionContext</c>): the connection's
/// writer, who is logged in on it, the sends it has in flight and the order their answers leave in, and its failed
/// logins. The transport carries bytes; this carries what the requests on it did. Touched by the connection's read loop,
/// and by its sends as they complete (<see cref="SendSlots"/>, <see cref="Answered"/>).
/// </summary>
public sealed class RequestContext(ChatConnection connection, int maxInFlight)
{
    public ChatConnection Connection { get; } = connection;

    /// <summary>The logged-in user, or null before login and after LOGINOUT.</summary>
    public UserSession? User { get; set; }

    public int? UserId => User?.Id;

    /// <summary>One per chat send not yet stored; the read loop waits for one before it dispatches a send (<c>Chat:MaxInFlightPerConnection</c>).</summary>
    public SemaphoreSlim SendSlots { get; } = new(maxInFlight);

    /// <summary>Completes once every send dispatched so far has been answered: the one chain that orders a connection's sends.</summary>
    public Task Answered { get; set; } = Task.CompletedTask;

    /// <summary>Failed LOGIN and REG attempts on this connection.</summary>
    public int FailedLogins { get; set; }

    /// <summary>A refusal of this connection's logins has been logged.</summary>
    public bool ThrottleReported { get; set; }
}
