using Chat.Domain;

namespace Chat.Tests.Domain;

public sealed class ValidationTests
{
    [Theory]
    [InlineData("", true)]
    [InlineData("plain ascii", true)]
    [InlineData("你好 🌍🌍 ok", true)]
    [InlineData("🌍", true)]
    [InlineData("a\0b", false)]
    [InlineData("end \uD83C", false)]
    [InlineData("\uDF0D start", false)]
    [InlineData("reversed \uDF0D\uD83C pair", false)]
    [InlineData("🌍 then lone \uD800 x", false)]
    public void Storable_text_has_no_nul_and_only_whole_surrogate_pairs(string text, bool storable)
    {
        Assert.Equal(storable, Validation.IsStorable(text));
    }
}
