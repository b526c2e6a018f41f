using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;

namespace Chat.Server.Files;

/// <summary>
/// Files in an S3-compatible bucket (<c>Chat:Files:Store</c> = s3): each file as objects of at most
/// <see cref="DatabaseBlobStore.ChunkBytes"/> (<c>{id}/{part}/{index}</c>), as the database keeps them. An upload holds
/// one chunk, never needs a length known in advance or a multipart upload, and any position is one GET away.
/// </summary>
public sealed class S3BlobStore : IBlobStore, IDisposable
{
    private const int ChunkBytes = DatabaseBlobStore.ChunkBytes;

    private readonly AmazonS3Client _s3;
    private readonly string _bucket;
    private readonly Lazy<Task> _bucketReady;

    public S3BlobStore(IOptions<FilesOptions> options)
    {
        var s3 = options.Value.S3;
        var config = new AmazonS3Config
        {
            ForcePathStyle = s3.ForcePathStyle,
            AuthenticationRegion = s3.Region,
            // SDK 4 adds checksums to every request by default; servers that predate them refuse or mangle those.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (s3.ServiceUrl.Length > 0)
        {
            config.ServiceURL = s3.ServiceUrl;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(s3.Region);
        }

        _s3 = new AmazonS3Client(new BasicAWSCredentials(s3.AccessKey, s3.SecretKey), config);
        _bucket = s3.Bucket;
        _bucketReady = new Lazy<Task>(EnsureBucketAsync);
    }

    public async Task WriteAsync(string fileId, BlobPart part, Stream content, CancellationToken ct)
    {
        await _bucketReady.Value;
        var buffer = new byte[ChunkBytes];
        for (var index = 0; ; index++)
        {
            var filled = await content.ReadAtLeastAsync(buffer, ChunkBytes, throwOnEndOfStream: false, ct);
            if (filled == 0 && index > 0)
            {
                return;
            }

            using var body = new MemoryStream(buffer, 0, filled, writable: false);
            await _s3.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = Key(fileId, part, index), InputStream = body, UseChunkEncoding = false, AutoCloseStream = false }, ct);
            if (filled < ChunkBytes)
            {
                return;
            }
        }
    }

    public Stream Open(string fileId, BlobPart part, long length) => new ChunkedReadStream(length, (index, ct) => ReadChunkAsync(fileId, part, index, ct));

    public async Task DeleteAsync(string fileId, CancellationToken ct)
    {
        await _bucketReady.Value;
        var listing = new ListObjectsV2Request { BucketName = _bucket, Prefix = fileId + "/" };
        ListObjectsV2Response page;
        do
        {
            page = await _s3.ListObjectsV2Async(listing, ct);
            foreach (var o in page.S3Objects ?? [])
            {
                await _s3.DeleteObjectAsync(_bucket, o.Key, ct);
            }

            listing.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
    }

    public void Dispose() => _s3.Dispose();

    private static string Key(string fileId, BlobPart part, int index) => $"{fileId}/{(int)part}/{index}";

    private async Task EnsureBucketAsync()
    {
        try
        {
            await _s3.PutBucketAsync(new PutBucketRequest { BucketName = _bucket });
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.Conflict || ex.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
            // There already: fine.
        }
    }

    private async Task<byte[]> ReadChunkAsync(string fileId, BlobPart part, int index, CancellationToken ct)
    {
        using var response = await _s3.GetObjectAsync(_bucket, Key(fileId, part, index), ct);
        var bytes = new byte[response.ContentLength];
        await response.ResponseStream.ReadExactlyAsync(bytes, ct);
        return bytes;
    }
}
