using System.ComponentModel.DataAnnotations;

namespace Chat.Server.Files;

/// <summary>Files (attachments and avatars), section <c>Chat:Files</c>.</summary>
public sealed class FilesOptions
{
    public const string Section = "Chat:Files";

    /// <summary>The largest file (bytes): 413 beyond, before the body is read when Content-Length says so.</summary>
    [Range(1, long.MaxValue)]
    public long MaxBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Bytes one user may upload in any 24 hours: 429 beyond.</summary>
    [Range(1, long.MaxValue)]
    public long DailyBytesPerUser { get; set; } = 200L * 1024 * 1024;

    /// <summary>Where the bytes live: <c>database</c> (chunks in the chat database) or <c>s3</c>.</summary>
    [RegularExpression("^(database|s3)$")]
    public string Store { get; set; } = "database";

    /// <summary>A file never sent (nor made an avatar) is erased this long after its upload.</summary>
    public TimeSpan UnsentLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often a replica looks for unsent files past their lifetime.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// An image claiming more pixels than this (width × height, read from its header) is refused before it is
    /// decoded: decoding one takes 4 bytes a pixel.
    /// </summary>
    [Range(1, 1_000_000_000)]
    public long MaxImagePixels { get; set; } = 40_000_000;

    /// <summary>Images decoded at once by one replica (the rest wait): bounds the memory decoding takes.</summary>
    [Range(1, 64)]
    public int ImageWorkers { get; set; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>The S3-compatible store, when <see cref="Store"/> is <c>s3</c>.</summary>
    public S3Options S3 { get; set; } = new();
}

/// <summary>An S3-compatible bucket (section <c>Chat:Files:S3</c>).</summary>
public sealed class S3Options
{
    /// <summary>The service's URL (e.g. <c>http://127.0.0.1:9000</c>); empty: AWS itself, by <see cref="Region"/>.</summary>
    public string ServiceUrl { get; set; } = "";

    public string Region { get; set; } = "us-east-1";

    public string Bucket { get; set; } = "chat-files";

    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";

    /// <summary>Bucket in the path, not the host name: what most S3-compatible servers want.</summary>
    public bool ForcePathStyle { get; set; } = true;
}
