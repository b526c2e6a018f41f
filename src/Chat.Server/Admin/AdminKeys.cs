using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Chat.Server.Admin;

/// <summary>
/// The configured admin keys, kept only as SHA-256 hashes; a presented key is hashed and compared with every one in
/// constant time, so neither the comparison nor which key matched shows in the timing.
/// </summary>
public sealed class AdminKeys(IOptions<AdminOptions> options)
{
    private readonly byte[][] _hashes = [.. options.Value.Keys.Where(k => k.Length > 0).Select(Hash)];

    public bool Enabled => _hashes.Length > 0;

    public bool Accepts(string? presented)
    {
        var hash = Hash(presented ?? "");
        var accepted = false;
        foreach (var known in _hashes)
        {
            accepted |= CryptographicOperations.FixedTimeEquals(hash, known);
        }

        return accepted && !string.IsNullOrEmpty(presented);
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
