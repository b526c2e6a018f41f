using System.ComponentModel.DataAnnotations;

namespace Chat.Server.Admin;

/// <summary>The operators' API (section <c>Chat:Admin</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "Chat:Admin";

    /// <summary>Keys an operator sends as <c>Authorization: Bearer &lt;key&gt;</c>. None: the API is off (404).</summary>
    public IReadOnlyList<string> Keys { get; set; } = [];

    /// <summary>A request with a wrong or missing key is answered 401 after this long, whatever it tried.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan FailureDelay { get; set; } = TimeSpan.FromSeconds(1);
}
