using Chat.Domain;

namespace Chat.Tests.Domain;

[Trait("Kind", "Unit")]
public sealed class ValidationTests
{
    // Lone surrogates do not survive xunit's serialization of theory data (nor attribute constants, where they become
    // U+FFFD): the cases holding them are enumerated when the theory runs (DisableDiscoveryEnumeration).
    public static TheoryData<string, string, bool> StorableCases => new()
    {
        { "empty", "", true },
        { "ascii", "plain ascii", true },
        { "cjk and emoji", "你好 🌍🌍 ok", true },
        { "one emoji", "🌍", true },
        { "nul", "a\0b", false },
        { "high surrogate at the end", "end " + '\uD83C', false },
        { "low surrogate at the start", '\uDF0D' + " start", false },
        { "pair reversed", "reversed " + '\uDF0D' + '\uD83C' + " pair", false },
        { "lone high inside", "🌍 then lone " + '\uD800' + " x", false },
        { "two lows", "two lows " + '\uDF0D' + '\uDF0D', false },
    };

    /// <summary>One name rule per case: the name, and the start of the problem (null: the name is fine).</summary>
    public static TheoryData<string, string, string?> NameCases => new()
    {
        { "plain", "alice", null },
        { "inner spaces, CJK and emoji", "zhang san 张三 🌍", null },
        { "empty", "", "name must not be empty" },
        { "white space only", "   ", "name must not be empty" },
        { "leading space", " alice", "name must not start or end with white space" },
        { "trailing space", "alice ", "name must not start or end with white space" },
        { "trailing no-break space (Zs)", "alice\u00A0", "name must not start or end with white space" },
        { "leading ideographic space", "\u3000alice", "name must not start or end with white space" },
        { "control character (Cc)", "a\u0001b", "name must not contain control characters" },
        { "escape (Cc)", "a\u001b[31mb", "name must not contain control characters" },
        { "right-to-left override (Cf)", "\u202Eecila", "name must not contain invisible formatting characters" },
        { "right-to-left isolate (Cf)", "al\u2067ice", "name must not contain invisible formatting characters" },
        { "zero-width space (Cf)", "ali\u200Bce", "name must not contain invisible formatting characters" },
        { "zero-width joiner (Cf)", "ali\u200Dce", "name must not contain invisible formatting characters" },
        { "byte order mark (Cf)", "\uFEFFalice", "name must not contain invisible formatting characters" },
        { "soft hyphen (Cf)", "ali\u00ADce", "name must not contain invisible formatting characters" },
        { "tag character beyond the BMP (Cf)", "alice\U000E0041", "name must not contain invisible formatting characters" },
        { "65 characters", new string('n', 65), "name must be at most 64 characters" },
        { "lone surrogate", "half " + '\uD800' + "x", "name must not contain NUL or unpaired surrogates" },
    };

    public static TheoryData<string, string?, int, string?> PasswordCases => new()
    {
        { "missing", null, 8, "password must not be empty" },
        { "empty", "", 8, "password must not be empty" },
        { "one short of the rule", "1234567", 8, "password must be at least 8 characters" },
        { "one character (the issue's \"a\")", "a", 8, "password must be at least 8 characters" },
        { "exactly the rule", "12345678", 8, null },
        { "a lifted rule", "pw", 1, null },
        { "too long", new string('p', 129), 8, "password must be at most 128 characters" },
    };

    /// <summary>A cid as the log keeps it: the case, the cid, and the start of the problem (null: fine).</summary>
    public static TheoryData<string, string?, string?> ClientIdCases => new()
    {
        { "none", null, null },
        { "plain", "m1", null },
        { "inner space", "m 1", null },
        { "64 characters", new string('c', 64), null },
        { "65 characters", new string('c', 65), "cid must be at most 64 characters" },
        { "trailing space (one cid with \"c1\" on MySQL)", "c1 ", "cid must not end with a space" },
        { "nul", "c\0", "cid must not contain NUL" },
    };

    [Theory]
    [MemberData(nameof(ClientIdCases), DisableDiscoveryEnumeration = true)]
    public void A_cid_is_one_the_log_can_keep_and_find_again(string rule, string? cid, string? problem) =>
        AssertProblem(rule, problem, Validation.ClientId(cid));

    [Theory]
    [MemberData(nameof(StorableCases), DisableDiscoveryEnumeration = true)]
    public void Storable_text_has_no_nul_and_only_whole_surrogate_pairs(string name, string text, bool storable) =>
        Assert.True(storable == Validation.IsStorable(text), $"{name}: expected {storable}");

    [Theory]
    [MemberData(nameof(NameCases), DisableDiscoveryEnumeration = true)]
    public void A_user_name_follows_the_rule(string rule, string name, string? problem) =>
        AssertProblem(rule, problem, Validation.UserName(name));

    [Theory]
    [MemberData(nameof(NameCases), DisableDiscoveryEnumeration = true)]
    public void A_group_name_follows_the_same_rules(string rule, string name, string? problem) =>
        AssertProblem(rule, problem?.Replace("name must", "groupname must", StringComparison.Ordinal), Validation.GroupName(name));

    [Theory]
    [MemberData(nameof(PasswordCases))]
    public void A_new_password_follows_the_rule(string rule, string? password, int minLength, string? problem) =>
        AssertProblem(rule, problem, Validation.Password(password, minLength));

    private static void AssertProblem(string rule, string? expected, string? actual)
    {
        if (expected is null)
        {
            Assert.True(actual is null, $"{rule}: refused with \"{actual}\"");
        }
        else
        {
            Assert.True(actual?.StartsWith(expected, StringComparison.Ordinal) == true, $"{rule}: expected \"{expected}…\", got \"{actual}\"");
        }
    }
}
