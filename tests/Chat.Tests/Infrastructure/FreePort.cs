using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// Hands out loopback TCP ports that nothing listens on. Ports are picked at random below the kernel's
/// ephemeral range (so outgoing connections, which take their local port from that range, cannot grab them
/// between the probe and the server's bind), probed with a real bind, and never handed out twice by this
/// process. Another process can still take a port before our server binds it: the fixtures retry with a new
/// port when a fresh server fails with "address in use".
/// </summary>
public static class FreePort
{
    private const int LowestPort = 20000;

    private static readonly Lock Gate = new();
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>A loopback port that was free a moment ago and that this process has not handed out before.</summary>
    public static int Next()
    {
        var (low, high) = NonEphemeralRange();
        lock (Gate)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                var port = high > low ? Random.Shared.Next(low, high) : PortFromKernel();
                if (!HandedOut.Contains(port) && CanBind(port))
                {
                    HandedOut.Add(port);
                    return port;
                }
            }
        }

        throw new InvalidOperationException("Could not find a free loopback TCP port after 200 attempts.");
    }

    /// <summary>Ports in [LowestPort, start of the ephemeral range); empty when that range is too small.</summary>
    private static (int Low, int High) NonEphemeralRange()
    {
        var ephemeralLow = 32768;
        try
        {
            var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
            var parts = text.Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 1 && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            {
                ephemeralLow = parsed;
            }
        }
        catch (IOException)
        {
            // Not Linux, or /proc unavailable: assume the usual default.
        }
        catch (UnauthorizedAccessException)
        {
        }

        return ephemeralLow - LowestPort >= 1000 ? (LowestPort, ephemeralLow) : (0, 0);
    }

    private static int PortFromKernel()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.ExclusiveAddressUse = true;
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            socket.Listen(1);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>Probes for loopback TCP listeners.</summary>
public static class LoopbackTcp
{
    /// <summary>True when a TCP connect to 127.0.0.1:<paramref name="port"/> succeeds within <paramref name="connectTimeout"/>.</summary>
    public static async Task<bool> CanConnectAsync(int port, TimeSpan? connectTimeout = null)
    {
        using var cts = new CancellationTokenSource(connectTimeout ?? TimeSpan.FromSeconds(1));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// True when some socket is in LISTEN state on 127.0.0.1:<paramref name="port"/> (or on 0.0.0.0), read from
    /// /proc/net/tcp, without connecting — so a probe never reaches whatever is behind a proxy.
    /// </summary>
    public static bool IsListening(int port)
    {
        var loopback = "0100007F:" + port.ToString("X4", CultureInfo.InvariantCulture);
        var any = "00000000:" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            // "  sl  local_address rem_address   st ..."; state 0A is LISTEN.
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 3 && fields[3] == "0A" && (fields[1] == loopback || fields[1] == any))
            {
                return true;
            }
        }

        return false;
    }
}
