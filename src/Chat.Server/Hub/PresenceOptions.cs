using System.ComponentModel.DataAnnotations;

namespace Chat.Server.Hub;

/// <summary>Presence: how long a replica's claim on an online user lives (section <c>Chat</c>).</summary>
public sealed class PresenceOptions
{
    /// <summary>How long a replica's claim on an online user lives without refresh (refreshed every third of it).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PresenceTtl { get; set; } = TimeSpan.FromSeconds(30);
}
