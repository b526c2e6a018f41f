using System.ComponentModel.DataAnnotations;

namespace Chat.Server.Hub;

/// <summary>
/// The Redis hub (section <c>Chat</c>): the prefix of its keys and channels, how long a replica's claim on an online user
/// lives, and how fast a dead replica's claims go void.
/// </summary>
public sealed class RedisOptions
{
    /// <summary>
    /// Starts every key and channel name: deployments with different prefixes share one Redis (or Redis Cluster) and
    /// never see each other's users. No hash tag (<c>{…}</c>) in it, or every key of a cluster lands on one slot.
    /// </summary>
    [Required(AllowEmptyStrings = true)]
    [RegularExpression(@"^[^{}]*$", ErrorMessage = "Chat:RedisPrefix may not hold braces: a hash tag would put every key of a Redis Cluster on one slot")]
    public string RedisPrefix { get; set; } = "chat:";

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
