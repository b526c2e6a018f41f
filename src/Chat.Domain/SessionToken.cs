using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Chat.Domain;

/// <summary>
/// A session token: 256 random bits, base64url on the wire (43 characters). Only its SHA-256 is stored, and a login
/// looks it up by that hash: checking one costs a hash and an indexed read, no PBKDF2 (a token is not guessable, so it
/// needs no stretching).
/// </summary>
public static class SessionToken
{
    /// <summary>Longer than any token this server issues: a LOGIN carrying one is refused without a lookup.</summary>
    public const int MaxLength = 64;

    private const int Bytes = 32;

    public static string New() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(Bytes));

    /// <summary>The stored form: lower-case hex of the token's SHA-256.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
