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

    public override string ToString() => Text;
}
