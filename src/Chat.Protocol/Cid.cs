using System.Buffers;
using System.Text.Json;

namespace Chat.Protocol;

/// <summary>
/// A client's correlation id: a JSON string or number, echoed exactly as sent — a number stays a number, with its
/// digits as written. <see cref="Text"/> is the string's value or the number's literal text.
/// </summary>
public readonly record struct Cid(string Text, bool IsNumber)
{
    public const int MaxLength = 64;

    public static Cid From(string text) => new(text, IsNumber: false);

    public static Cid From(long number) => new(number.ToString(System.Globalization.CultureInfo.InvariantCulture), IsNumber: true);

    public void WriteTo(Utf8JsonWriter writer)
    {
        if (IsNumber)
        {
            writer.WritePropertyName(Field.Cid);
            writer.WriteRawValue(Text, skipInputValidation: true);
        }
        else
        {
            writer.WriteString(Field.Cid, Text);
        }
    }

    /// <summary>The cid at the reader's value token; null when it is neither a string nor a number.</summary>
    /// <exception cref="InvalidOperationException">A string escape such as \ud800 that no text can hold.</exception>
    internal static Cid? Read(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => From(reader.GetString()!),
        JsonTokenType.Number => new Cid(
            System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan),
            IsNumber: true),
        _ => null,
    };

    public override string ToString() => Text;
}
