using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;

namespace Chat.Server.Transport;

public enum ProxyHeaderStatus
{
    /// <summary>Not enough bytes yet to tell.</summary>
    Incomplete,

    /// <summary>A complete header: the client's address, or null for <c>PROXY UNKNOWN</c>.</summary>
    Parsed,

    /// <summary>The connection does not start with a PROXY header: nothing is consumed.</summary>
    Absent,

    /// <summary>It starts like one but is not a valid header.</summary>
    Invalid,
}

/// <summary>
/// PROXY protocol version 1, the line nginx's stream proxy sends first with <c>proxy_protocol on</c>:
/// <c>PROXY TCP4 203.0.113.7 10.0.0.2 51234 8000\r\n</c> (at most 107 bytes). It tells a replica behind the balancer
/// who the client really is, so per-address limits see clients instead of the balancer.
/// </summary>
public static class ProxyProtocol
{
    public const int MaxHeaderBytes = 107;

    private static ReadOnlySpan<byte> Signature => "PROXY "u8;

    /// <param name="end">Where the client's own bytes start, when <see cref="ProxyHeaderStatus.Parsed"/>.</param>
    public static ProxyHeaderStatus TryParse(in ReadOnlySequence<byte> input, out IPEndPoint? client, out SequencePosition end)
    {
        client = null;
        end = input.Start;
        Span<byte> head = stackalloc byte[MaxHeaderBytes];
        var length = (int)Math.Min(input.Length, MaxHeaderBytes);
        input.Slice(0, length).CopyTo(head);
        head = head[..length];

        var prefix = Math.Min(length, Signature.Length);
        if (!head[..prefix].SequenceEqual(Signature[..prefix]))
        {
            return ProxyHeaderStatus.Absent;
        }

        var newline = head.IndexOf((byte)'\n');
        if (newline < 0)
        {
            return length < MaxHeaderBytes ? ProxyHeaderStatus.Incomplete : ProxyHeaderStatus.Invalid;
        }

        if (newline == 0 || head[newline - 1] != '\r' || !TryParseLine(head[..(newline - 1)], out client))
        {
            return ProxyHeaderStatus.Invalid;
        }

        end = input.GetPosition(newline + 1);
        return ProxyHeaderStatus.Parsed;
    }

    /// <summary>"PROXY UNKNOWN[ ...]" or "PROXY TCP4|TCP6 source destination sourceport destinationport".</summary>
    private static bool TryParseLine(ReadOnlySpan<byte> line, out IPEndPoint? client)
    {
        client = null;
        var parts = Encoding.ASCII.GetString(line).Split(' ');
        if (parts is [_, "UNKNOWN", ..])
        {
            return true;
        }

        if (parts is not [_, "TCP4" or "TCP6", var source, _, var port, _]
            || !IPAddress.TryParse(source, out var address)
            || (parts[1] == "TCP4") != (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || number > IPEndPoint.MaxPort)
        {
            return false;
        }

        client = new IPEndPoint(address, number);
        return true;
    }
}
