using Chat.Tests.Infrastructure;
using System.Buffers;
using System.Globalization;
using System.Text;

namespace Chat.Tests.Fuzz;

/// <summary>
/// Seeded generator of hostile client input: random bytes, and valid frames mutated by bit flips, truncation,
/// splicing, huge numbers, deep nesting, wrong types, unicode edge cases, NULs and CR/LF in odd places.
/// </summary>
public sealed class FuzzInputs(int seed)
{
    private static readonly string[] Templates =
    [
        """{"msgid":1,"id":1,"password":"pw"}""",
        """{"msgid":1,"id":2,"password":"x","v":2,"cid":"l"}""",
        """{"msgid":3}""",
        """{"msgid":4,"name":"fuzzer","password":"pw"}""",
        """{"msgid":6,"id":1,"name":"n","toid":2,"msg":"hello","time":"2026-11-21 10:00:00"}""",
        """{"msgid":6,"toid":1,"msg":"hi","cid":"c1"}""",
        """{"msgid":7,"friendid":2,"cid":7}""",
        """{"msgid":8,"groupname":"g","groupdesc":"d"}""",
        """{"msgid":9,"groupid":1}""",
        """{"msgid":10,"groupid":1,"msg":"all","time":"t","cid":"g1"}""",
        """{"msgid":13,"cid":"p"}""",
    ];

    private static readonly string[] Numbers =
    [
        "0", "-1", "2147483647", "2147483648", "-2147483649", "99999999999999999999999999", "1e400", "-1e-400", "1.5",
        "-0", "0x10", "NaN", "Infinity", "00", "1E2", "9223372036854775808",
    ];

    private static readonly string[] Values =
    [
        "[]", "{}", "true", "false", "null", "\"\"", "\"str\"", "1", "[1,[2,[3]]]", "{\"a\":{\"b\":{}}}", "\"\\u0000\"",
        "\"\\ud800\"", "\"\\udfff\"", "\"\\ud800\\ud800\"", "\"\\uffff\"", "\"\\ufeff\"", "\"\\u2028\\u2029\"",
        "\"\u202e\u0301\u0301\"", "\"🌍🌍\"", "\"\\\"\"", "\"\\x\"", "\"\\u12\"", "\"a\\\\\"",
    ];

    private static readonly byte[][] RawBytes =
    [
        [0], [(byte)'\r'], [(byte)'\n'], [(byte)'\r', (byte)'\n'], [0xFF], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80],
        [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF], [0xE2, 0x80], [0x80], [(byte)'"'], [(byte)'\\'], [(byte)'{'], [(byte)'}'],
    ];

    private readonly Random _random = new(seed);

    public Random Random => _random;

    /// <summary>One input as a client would send it, usually ending with a terminator.</summary>
    public byte[] Next()
    {
        var body = _random.Next(10) switch
        {
            0 => RandomBytes(),
            1 => DeepNesting(),
            2 => Splice(Mutated(), Mutated()),
            _ => Mutated(),
        };
        return _random.Next(10) switch
        {
            0 => body,
            1 => [.. body, 0],
            2 => [.. body, (byte)'\r', (byte)'\n'],
            _ => [.. body, (byte)'\n'],
        };
    }

    private byte[] RandomBytes()
    {
        var bytes = new byte[_random.Next(1, 2048)];
        _random.NextBytes(bytes);
        return bytes;
    }

    private byte[] DeepNesting()
    {
        var depth = _random.Next(1, 5000);
        var open = _random.Next(2) == 0 ? "[" : "{\"a\":";
        var close = open == "[" ? "]" : "}";
        var text = "{\"msgid\":13,\"x\":" + string.Concat(Enumerable.Repeat(open, depth)) + "1"
            + string.Concat(Enumerable.Repeat(close, _random.Next(2) == 0 ? depth : _random.Next(depth))) + "}";
        return Encoding.UTF8.GetBytes(text);
    }

    private byte[] Mutated()
    {
        var text = Templates[_random.Next(Templates.Length)];
        for (var i = _random.Next(1, 4); i > 0; i--)
        {
            text = _random.Next(6) switch
            {
                0 => ReplaceValue(text, Numbers[_random.Next(Numbers.Length)]),
                1 => ReplaceValue(text, Values[_random.Next(Values.Length)]),
                2 => text.Insert(text.Length - 1, $",\"msgid\":{Numbers[_random.Next(Numbers.Length)]}"),
                3 => text.Insert(text.Length - 1, ",\"msg\":\"" + new string('m', _random.Next(0, 70_000)) + "\""),
                _ => text,
            };
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = _random.Next(0, 4); i > 0; i--)
        {
            bytes = _random.Next(4) switch
            {
                0 => FlipBit(bytes),
                1 => bytes[.._random.Next(bytes.Length + 1)],
                2 => Insert(bytes, RawBytes[_random.Next(RawBytes.Length)]),
                _ => bytes,
            };
        }

        return bytes;
    }

    private string ReplaceValue(string text, string value)
    {
        var colons = Enumerable.Range(0, text.Length).Where(i => text[i] == ':').ToArray();
        if (colons.Length == 0)
        {
            return text;
        }

        var start = colons[_random.Next(colons.Length)] + 1;
        var end = text.IndexOfAny([',', '}'], start);
        return text[..start] + value + text[(end < 0 ? text.Length : end)..];
    }

    private byte[] FlipBit(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return bytes;
        }

        var copy = (byte[])bytes.Clone();
        copy[_random.Next(copy.Length)] ^= (byte)(1 << _random.Next(8));
        return copy;
    }

    private byte[] Insert(byte[] bytes, byte[] inserted)
    {
        var at = _random.Next(bytes.Length + 1);
        return [.. bytes.AsSpan(0, at), .. inserted, .. bytes.AsSpan(at)];
    }

    private byte[] Splice(byte[] a, byte[] b) => [.. a.AsSpan(0, _random.Next(a.Length + 1)), .. b.AsSpan(_random.Next(b.Length + 1))];

    /// <summary>The seed from <c>CHAT_FUZZ_SEED</c>, or a fresh one.</summary>
    public static int SeedFromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("CHAT_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : Random.Shared.Next();

    /// <summary>How long to fuzz: <c>CHAT_FUZZ_SECONDS</c>, or <paramref name="fallback"/> seconds.</summary>
    public static TimeSpan DurationFromEnvironment(double fallback) =>
        TimeSpan.FromSeconds(double.TryParse(Environment.GetEnvironmentVariable("CHAT_FUZZ_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : fallback);

    /// <summary>The committed regression inputs (copied next to the test binaries), by file name.</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> Corpus() =>
        Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Fuzz", "corpus"), "*.bin")
            .Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)));

    /// <summary>Splits <paramref name="bytes"/> into a sequence of random-length segments.</summary>
    public ReadOnlySequence<byte> Segmented(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        ByteSegment? first = null, last = null;
        for (var at = 0; at < bytes.Length;)
        {
            var length = Math.Min(bytes.Length - at, _random.Next(1, 64));
            var memory = bytes.AsMemory(at, length);
            last = last is null ? first = new ByteSegment(memory, 0) : last.Append(memory);
            at += length;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }
}
