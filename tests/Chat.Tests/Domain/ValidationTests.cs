using Chat.Domain;

namespace Chat.Tests.Domain;

[Trait("Kind", "Unit")]
public sealed class ValidationTests
{
    // Built at run time: a lone surrogate in an attribute constant is replaced with U+FFFD in metadata.
    private static readonly (string Text, bool Storable)[] Cases =
    [
        ("", true),
        ("plain ascii", true),
        ("你好 🌍🌍 ok", true),
        ("🌍", true),
        ("a\0b", false),
        ("end " + '\uD83C', false),
        ('\uDF0D' + " start", false),
        ("reversed " + '\uDF0D' + '\uD83C' + " pair", false),
        ("🌍 then lone " + '\uD800' + " x", false),
        ("two lows " + '\uDF0D' + '\uDF0D', false),
    ];

    [Fact]
    public void Storable_text_has_no_nul_and_only_whole_surrogate_pairs()
    {
        foreach (var (text, storable) in Cases)
        {
            Assert.True(storable == Validation.IsStorable(text), $"case {Cases.ToList().IndexOf((text, storable))}: expected {storable}");
        }
    }
}
