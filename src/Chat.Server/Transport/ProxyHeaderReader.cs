using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Chat.Server.Transport;

/// <summary>
/// Connection middleware, first on the chat port (before TLS): on a connection from one of
/// <c>Chat:TrustedProxies</c> that starts with a PROXY protocol line, the line is consumed and the
/// connection's remote address becomes the client's, for the login limits and the logs. From anyone else nothing is
/// read here, so a client cannot claim another address: its "PROXY ..." line is just a malformed frame.
/// </summary>
public sealed class ProxyHeaderReader(IEnumerable<string> trustedProxies, ILogger<ProxyHeaderReader> log)
{
    private static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(5);
    private readonly IPNetwork[] _trusted = TrustedProxies.Parse(trustedProxies);

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        if (IsTrusted(connection.RemoteEndPoint) && !await ReadHeaderAsync(connection))
        {
            return;
        }

        await next(connection);
    };

    private bool IsTrusted(EndPoint? peer) =>
        peer is IPEndPoint { Address: var address }
        && (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address) is var normal
        && _trusted.Any(network => network.Contains(normal));

    /// <returns>False when the connection must be dropped (a broken header, or none in time).</returns>
    private async Task<bool> ReadHeaderAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var timeout = new CancellationTokenSource(HeaderTimeout);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(timeout.Token);
                var status = ProxyProtocol.TryParse(result.Buffer, out var client, out var end);
                switch (status)
                {
                    case ProxyHeaderStatus.Parsed:
                        input.AdvanceTo(end);
                        connection.RemoteEndPoint = client ?? connection.RemoteEndPoint;
                        return true;
                    case ProxyHeaderStatus.Absent:
                        input.AdvanceTo(result.Buffer.Start);
                        return true;
                    case ProxyHeaderStatus.Incomplete when !result.IsCompleted:
                        input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                        continue;
                    default:
                        input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                        ServerLog.BadProxyHeader(log, connection.RemoteEndPoint?.ToString());
                        return false;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            ServerLog.BadProxyHeader(log, connection.RemoteEndPoint?.ToString());
            return false;
        }
    }
}
