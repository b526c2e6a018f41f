using System.ComponentModel.DataAnnotations;

namespace Chat.Server.Hub;

/// <summary>Presence: how long a replica's claim on an online user lives, and how fast a dead replica's claims go void (section <c>Chat</c>).</summary>
public sealed class PresenceOptions
{
    /// <summary>How long a replica's claim on an online user lives without refresh (refreshed every third of it).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PresenceTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a replica's liveness key lives without refresh (refreshed every third of it). A claim held by a replica
    /// whose key is gone is void: a killed replica's users log in elsewhere after this, not after <see cref="PresenceTtl"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.300", "00:01:00")]
    public TimeSpan LivenessTtl { get; set; } = TimeSpan.FromSeconds(3);
}
