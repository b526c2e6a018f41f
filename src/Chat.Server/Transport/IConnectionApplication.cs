using System.Buffers;

namespace Chat.Server.Transport;

/// <summary>
/// What runs on top of the transport: the read loop hands it each connection and each frame, and nothing here knows
/// what a frame means. (Implemented by the request dispatcher; tests can put anything else behind a connection.)
/// </summary>
public interface IConnectionApplication
{
    IConnectionState Open(ChatConnection connection);
}

/// <summary>One connection's state above the transport; disposed when the connection ends (it logs the user out).</summary>
public interface IConnectionState : IAsyncDisposable
{
    /// <summary>The logged-in user's id, for logs; null before login.</summary>
    int? UserId { get; }

    /// <summary>Handles one frame. Returns once the next frame may be read (pipelined requests may still be running).</summary>
    ValueTask OnFrameAsync(ReadOnlySequence<byte> frame, CancellationToken ct);
}
