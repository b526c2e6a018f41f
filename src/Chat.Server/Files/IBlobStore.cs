namespace Chat.Server.Files;

/// <summary>Which bytes of a file: the file itself or its thumbnail.</summary>
public enum BlobPart : short
{
    File = 0,
    Thumb = 1,
}

/// <summary>Where files' bytes live (<c>Chat:Files:Store</c>): the chat database or an S3-compatible bucket.</summary>
public interface IBlobStore
{
    /// <summary>
    /// Stores <paramref name="content"/>, read to its end a piece at a time (never whole in memory). When reading
    /// fails (too large, the client went away) the exception passes through; the caller erases what was written.
    /// </summary>
    Task WriteAsync(string fileId, BlobPart part, Stream content, CancellationToken ct);

    /// <summary>A seekable stream over <paramref name="length"/> stored bytes, fetched as they are read.</summary>
    Stream Open(string fileId, BlobPart part, long length);

    /// <summary>Erases both parts; nothing stored is no error.</summary>
    Task DeleteAsync(string fileId, CancellationToken ct);
}
