using Chat.Domain.Protocol;
using Chat.Server.Hosting;
using Chat.Server.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Server.Connections;

/// <summary>
/// Connection middleware on the chat port that caps open connections. Kestrel's own
/// <c>MaxConcurrentConnections</c> closes the extra connection without a word; here it gets ERROR (errno 10,
/// "server full") first, so a client knows to try later or elsewhere.
/// </summary>
public sealed class ConnectionLimiter(IOptions<ChatServerOptions> options, ILogger<ConnectionLimiter> log)
{
    private int _open;

    public int Open => Volatile.Read(ref _open);

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        try
        {
            var limit = options.Value.MaxConnections;
            if (Interlocked.Increment(ref _open) > limit)
            {
                ServerLog.ServerFull(log, connection.RemoteEndPoint?.ToString(), limit);
                await connection.Transport.Output.WriteAsync(Frames.Error(ErrorCode.Unavailable, "server full: try again later", null));
                return;
            }

            await next(connection);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    };
}
