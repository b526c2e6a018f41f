using System.ComponentModel.DataAnnotations;

namespace Chat.Server.Handlers;

/// <summary>Chat messages users send (section <c>Chat</c>).</summary>
public sealed class MessageOptions
{
    /// <summary>
    /// Longest chat text (UTF-16 characters). 4096 escaped as <c>\uXXXX</c> (6 bytes each) is 24 KiB, so a text
    /// of this length always fits in a frame of the default limit, in both directions.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxMessageChars { get; set; } = 4096;
}
