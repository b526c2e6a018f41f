using System.Buffers;
using Chat.Server.Sessions;
using Chat.Server.Transport;

namespace Chat.Server.Handlers;

/// <summary>What handlers know of one connection: the connection itself and, once logged in, the user.</summary>
public sealed class RequestContext(ChatConnection connection, Dispatcher dispatcher) : IConnectionState
{
    public ChatConnection Connection { get; } = connection;

    /// <summary>The logged-in user, or null before login and after LOGINOUT.</summary>
    public UserSession? User { get; set; }

    public int? UserId => User?.Id;

    public ValueTask OnFrameAsync(ReadOnlySequence<byte> frame, CancellationToken ct) => dispatcher.DispatchAsync(this, frame, ct);

    public ValueTask DisposeAsync() => dispatcher.CloseAsync(this);
}
