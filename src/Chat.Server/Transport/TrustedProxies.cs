using System.Net;

namespace Chat.Server.Transport;

/// <summary>
/// <c>Chat:TrustedProxies</c>, parsed once for both ports: the chat port reads a PROXY protocol line only from them
/// (<see cref="ProxyHeaderReader"/>), the HTTP port takes <c>X-Forwarded-For</c> only from them (<c>/ws</c>).
/// </summary>
public static class TrustedProxies
{
    /// <summary>Each entry is "10.0.0.0/8", "::1/128", or a single address ("127.0.0.1").</summary>
    public static IPNetwork[] Parse(IEnumerable<string> entries) =>
        [.. entries.Select(p => TryParseNetwork(p) ?? throw new FormatException($"Chat:TrustedProxies: '{p}' is not an IP address or network"))];

    private static IPNetwork? TryParseNetwork(string text) =>
        IPNetwork.TryParse(text, out var network) ? network
        : IPAddress.TryParse(text, out var address) ? new IPNetwork(address, address.GetAddressBytes().Length * 8)
        : null;
}
