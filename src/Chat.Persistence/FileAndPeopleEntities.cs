namespace Chat.Persistence;

// Files (attachments and avatars): rows as EF Core maps them; names in FileConfigurations.cs.

/// <summary>An uploaded file: who uploaded it, what it is, and whether it was ever sent (an unsent one is erased after a while).</summary>
public sealed class FileEntity
{
    /// <summary>128 random bits, lower-case hex (32 characters).</summary>
    public required string Id { get; set; }

    public int UploaderId { get; set; }

    public required string Name { get; set; }

    /// <summary>The media type it is served with.</summary>
    public required string Type { get; set; }

    public long Size { get; set; }

    /// <summary>The thumbnail's media type, or null when there is none (not an image).</summary>
    public string? ThumbType { get; set; }

    public long ThumbSize { get; set; }

    /// <summary>UTC, when the upload completed: the daily quota counts the last 24 hours of these.</summary>
    public DateTime CreatedAt { get; set; }

    /// <summary>UTC, when it was first sent in a message or made an avatar; null: never (erased after <c>Chat:Files:UnsentLifetime</c>).</summary>
    public DateTime? SentAt { get; set; }
}

/// <summary>A piece (at most 1 MiB) of a file's bytes or of its thumbnail's, when the database holds them (<c>Chat:Files:Store</c> = database).</summary>
public sealed class FileChunkEntity
{
    public required string FileId { get; set; }

    /// <summary>0: the file; 1: its thumbnail.</summary>
    public short Part { get; set; }

    public int Index { get; set; }

    public required byte[] Data { get; set; }
}

/// <summary>A message that carries a file: whoever may read that conversation may read the file.</summary>
public sealed class MessageFileEntity
{
    public long ConversationId { get; set; }

    public long Seq { get; set; }

    public required string FileId { get; set; }
}

// People: a profile and blocks, in tables of their own beside users.

/// <summary>What a user says about themselves (PROFILE): no row, nothing said.</summary>
public sealed class ProfileEntity
{
    public int UserId { get; set; }

    public required string About { get; set; }

    /// <summary>An image file the user uploaded, or "" for none.</summary>
    public required string Avatar { get; set; }
}

/// <summary><see cref="UserId"/> blocked <see cref="BlockedId"/> (BLOCK).</summary>
public sealed class BlockEntity
{
    public int UserId { get; set; }

    public int BlockedId { get; set; }
}
