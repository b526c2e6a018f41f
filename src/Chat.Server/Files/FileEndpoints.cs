using Chat.Domain;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Chat.Server.Files;

/// <summary>
/// <c>POST /files?name=…</c> (upload) and <c>GET /files/{id}</c>, <c>GET /files/{id}/thumb</c> (download), with the v2
/// session token as bearer. Uploads stream to the blob store through a counted body (an image through a temporary
/// file, so it can be decoded and stored without its metadata); downloads are range-able streams over the stored
/// chunks, served so that no file can run script in the page's origin.
/// </summary>
public static class FileEndpoints
{
    private const int SniffBytes = 4096;

    public static IServiceCollection AddChatFiles(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FilesOptions>().BindConfiguration(FilesOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        if (string.Equals(configuration[$"{FilesOptions.Section}:Store"], "s3", StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<IBlobStore, S3BlobStore>();
        }
        else
        {
            services.AddSingleton<IBlobStore, DatabaseBlobStore>();
        }

        services.AddSingleton(sp => new ImageGate(sp.GetRequiredService<IOptions<FilesOptions>>().Value.ImageWorkers));
        services.AddSingleton<FileService>();
        services.AddSingleton<UnsentFileSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<UnsentFileSweeper>());
        return services;
    }

    public static IEndpointRouteBuilder MapFiles(this IEndpointRouteBuilder app)
    {
        app.MapPost("/files", UploadAsync);
        app.MapGet("/files/{id}", (HttpContext http, string id) => DownloadAsync(http, id, BlobPart.File));
        app.MapGet("/files/{id}/thumb", (HttpContext http, string id) => DownloadAsync(http, id, BlobPart.Thumb));
        return app;
    }

    /// <summary>The user the request's bearer token belongs to, or null (no token, a wrong or expired one).</summary>
    private static async Task<int?> UserAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = header["Bearer ".Length..].Trim();
        if (token.Length is 0 or > SessionToken.MaxLength)
        {
            return null;
        }

        var tokens = http.RequestServices.GetRequiredService<ISessionTokenStore>();
        var time = http.RequestServices.GetRequiredService<TimeProvider>();
        return await tokens.FindUserAsync(SessionToken.Hash(token), time.GetUtcNow(), http.RequestAborted);
    }

    private static IResult Unauthorized(HttpContext http)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, detail: "a v2 session token is needed as bearer");
    }

    private static async Task<IResult> UploadAsync(HttpContext http, string? name)
    {
        var services = http.RequestServices;
        var options = services.GetRequiredService<IOptions<FilesOptions>>().Value;
        var log = services.GetRequiredService<ILogger<FileService>>();
        var ct = http.RequestAborted;
        if (await UserAsync(http) is not { } userId)
        {
            return Unauthorized(http);
        }

        IResult Refuse(int status, string reason)
        {
            FileLog.Refused(log, userId, status, reason);
            return Results.Problem(statusCode: status, detail: reason);
        }

        if (CleanName(name) is not { } fileName)
        {
            return Refuse(StatusCodes.Status400BadRequest, "name (1 to 255 characters) is needed");
        }

        var declared = http.Request.ContentLength;
        if (declared > options.MaxBytes)
        {
            return Refuse(StatusCodes.Status413PayloadTooLarge, $"a file may have at most {options.MaxBytes} bytes");
        }

        var catalog = services.GetRequiredService<IFileCatalog>();
        var time = services.GetRequiredService<TimeProvider>();
        var now = time.GetUtcNow().UtcDateTime;
        var remaining = options.DailyBytesPerUser - await catalog.UploadedSinceAsync(userId, now.AddDays(-1), ct);
        if (remaining <= 0 || declared > remaining)
        {
            return Refuse(StatusCodes.Status429TooManyRequests, $"at most {options.DailyBytesPerUser} bytes a day");
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = options.MaxBytes + 1;
        }

        // The first bytes tell what it is; the claimed type is believed only where it does not lie about an image.
        var head = new byte[SniffBytes];
        var headLength = await http.Request.Body.ReadAtLeastAsync(head, SniffBytes, throwOnEndOfStream: false, ct);
        var sniffed = ImageProcessor.Sniff(head.AsSpan(0, headLength));
        var claimed = ClaimedType(http.Request.ContentType);
        if (claimed is { } c && ImageProcessor.IsRaster(c) && c != sniffed)
        {
            return Refuse(StatusCodes.Status415UnsupportedMediaType, $"the content is not {c}");
        }

        var limit = Math.Min(options.MaxBytes, remaining);
        var body = new LimitedBody(head.AsMemory(0, headLength), http.Request.Body, limit);
        var blobs = services.GetRequiredService<IBlobStore>();
        var id = FileService.NewId();
        try
        {
            FileRecord record;
            if (sniffed is not null)
            {
                var (image, problem) = await ProcessImageAsync(body, sniffed, options, services.GetRequiredService<ImageGate>(), ct);
                if (image is null)
                {
                    return Refuse(StatusCodes.Status415UnsupportedMediaType, problem!);
                }

                using (image)
                {
                    using (var stored = image.Image.AsStream())
                    {
                        await blobs.WriteAsync(id, BlobPart.File, stored, ct);
                    }

                    using (var thumb = image.Thumb.AsStream())
                    {
                        await blobs.WriteAsync(id, BlobPart.Thumb, thumb, ct);
                    }

                    record = new FileRecord(id, userId, fileName, image.Type, image.Image.Size, image.ThumbType, image.Thumb.Size, now, null);
                }
            }
            else
            {
                await blobs.WriteAsync(id, BlobPart.File, body, ct);
                record = new FileRecord(id, userId, fileName, claimed ?? "application/octet-stream", body.Count, null, 0, now, null);
            }

            await catalog.AddAsync(record, ct);
            FileLog.Uploaded(log, id, userId, record.Size, record.Type);
            var file = record.Ref;
            return Results.Json(
                new UploadedFile(file.Id, file.Name, file.Size, file.Type, file.Thumb),
                FilesJson.Default.UploadedFile,
                statusCode: StatusCodes.Status201Created);
        }
        catch (BodyLimitException ex)
        {
            await EraseQuietlyAsync(blobs, id);
            return ex.Limit < options.MaxBytes
                ? Refuse(StatusCodes.Status429TooManyRequests, $"at most {options.DailyBytesPerUser} bytes a day")
                : Refuse(StatusCodes.Status413PayloadTooLarge, $"a file may have at most {options.MaxBytes} bytes");
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // The client went away or stopped sending (Kestrel's minimum data rate): nothing of it is kept.
            await EraseQuietlyAsync(blobs, id);
            FileLog.Abandoned(log, ex, userId);
            return Results.StatusCode(ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest);
        }
    }

    /// <summary>Spools the image to a temporary file (the body is never whole in memory), then decodes it on the image gate.</summary>
    private static async Task<(ProcessedImage? Image, string? Problem)> ProcessImageAsync(LimitedBody body, string type, FilesOptions options, ImageGate gate, CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), $"chat-upload-{Guid.NewGuid():N}");
        await using var spool = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        await body.CopyToAsync(spool, 64 * 1024, ct);
        spool.Position = 0;
        await gate.Slots.WaitAsync(ct);
        try
        {
            // Decoding is CPU work: off the request's thread (Kestrel runs handlers inline on the I/O thread).
            return await Task.Run(() => ImageProcessor.Process(spool, type, options.MaxImagePixels), ct);
        }
        finally
        {
            gate.Slots.Release();
        }
    }

    private static async Task EraseQuietlyAsync(IBlobStore blobs, string id)
    {
        try
        {
            await blobs.DeleteAsync(id, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Pieces left by a failed erase belong to no file record: nobody can name them.
        }
    }

    private static async Task<IResult> DownloadAsync(HttpContext http, string id, BlobPart part)
    {
        var ct = http.RequestAborted;
        if (await UserAsync(http) is not { } userId)
        {
            return Unauthorized(http);
        }

        var catalog = http.RequestServices.GetRequiredService<IFileCatalog>();
        // Someone else's file, a guessed id and a missing one are all the same 404: no oracle.
        if (!FileService.IsId(id) || await catalog.FindAsync(id, ct) is not { } file || !await catalog.MayReadAsync(userId, file, ct))
        {
            return Results.NotFound();
        }

        var thumb = part == BlobPart.Thumb;
        if (thumb && file.ThumbType is null)
        {
            return Results.NotFound();
        }

        var type = thumb ? file.ThumbType! : file.Type;
        var length = thumb ? file.ThumbSize : file.Size;
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'";
        headers.CacheControl = "private, max-age=86400";
        var inline = ImageProcessor.IsRaster(type);
        if (inline)
        {
            var disposition = new ContentDispositionHeaderValue("inline");
            disposition.SetHttpFileName(file.Name);
            headers.ContentDisposition = disposition.ToString();
        }

        var stream = http.RequestServices.GetRequiredService<IBlobStore>().Open(id, part, length);
        return Results.Stream(
            stream,
            type,
            fileDownloadName: inline ? null : file.Name,
            lastModified: new DateTimeOffset(file.CreatedAt, TimeSpan.Zero),
            entityTag: new EntityTagHeaderValue($"\"{id}{(thumb ? "-thumb" : "")}\""),
            enableRangeProcessing: true);
    }

    /// <summary>The file's name as given, without any path, control characters or surrounding space; null when nothing is left.</summary>
    private static string? CleanName(string? name)
    {
        if (name is null)
        {
            return null;
        }

        var last = name.Replace('\\', '/').Split('/')[^1];
        var clean = new string([.. last.Where(ch => !char.IsControl(ch))]).Trim();
        return clean.Length is > 0 and <= 255 && Validation.IsStorable(clean) ? clean : null;
    }

    /// <summary>The media type the client sent (no parameters), when it is a well-formed one.</summary>
    private static string? ClaimedType(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed) || parsed.MediaType.Value is not { Length: > 2 and <= 127 } media)
        {
            return null;
        }

        var type = media.ToLowerInvariant();
        return type is "image/jpg" or "image/pjpeg" ? "image/jpeg" : type;
    }
}

/// <summary>Images decoded at once (<see cref="FilesOptions.ImageWorkers"/>).</summary>
public sealed class ImageGate(int workers)
{
    public SemaphoreSlim Slots { get; } = new(workers, workers);
}

/// <summary>201's body: <c>{id, name, size, type, thumb}</c>.</summary>
public sealed record UploadedFile(string Id, string Name, long Size, string Type, bool Thumb);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(UploadedFile))]
internal sealed partial class FilesJson : System.Text.Json.Serialization.JsonSerializerContext;
