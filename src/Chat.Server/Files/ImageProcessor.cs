using SkiaSharp;

namespace Chat.Server.Files;

/// <summary>An image as stored: the re-encoded picture (metadata gone, orientation applied) and its thumbnail.</summary>
public sealed record ProcessedImage(SKData Image, string Type, SKData Thumb, string ThumbType) : IDisposable
{
    public void Dispose()
    {
        Image.Dispose();
        Thumb.Dispose();
    }
}

/// <summary>
/// What the bytes of an upload say they are, and the images among them made safe to store: decoded with SkiaSharp
/// (pixel dimensions checked from the header first), turned upright as their EXIF orientation says, and encoded
/// again, which leaves every piece of metadata (EXIF, GPS, comments) behind; a thumbnail of at most
/// <see cref="ThumbnailMax"/> pixels a side goes with each.
/// </summary>
public static class ImageProcessor
{
    public const int ThumbnailMax = 320;

    /// <summary>The raster image types served inline (everything else is an attachment).</summary>
    public static bool IsRaster(string type) => type is "image/jpeg" or "image/png" or "image/gif" or "image/webp";

    /// <summary>The image type the first bytes of a file show, or null when they are not one of the four.</summary>
    public static string? Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return "image/jpeg";
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return "image/png";
        }

        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return "image/gif";
        }

        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
        {
            return "image/webp";
        }

        return null;
    }

    /// <summary>
    /// The image in <paramref name="source"/> (of <paramref name="type"/>, as sniffed) ready to store, or the reason
    /// it is refused: it does not decode, or its header claims more than <paramref name="maxPixels"/> pixels.
    /// A GIF is kept as it came (it may be animated and holds no EXIF); only its thumbnail is drawn.
    /// </summary>
    public static (ProcessedImage? Image, string? Problem) Process(Stream source, string type, long maxPixels)
    {
        using var codec = SKCodec.Create(source, out var result);
        if (codec is null)
        {
            return (null, $"not a readable image ({result})");
        }

        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0 || (long)info.Width * info.Height > maxPixels)
        {
            return (null, $"image of {info.Width}x{info.Height} pixels: at most {maxPixels} pixels");
        }

        using var decoded = new SKBitmap(info.WithColorType(SKImageInfo.PlatformColorType).WithAlphaType(info.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Premul));
        var decodeResult = codec.GetPixels(decoded.Info, decoded.GetPixels());
        if (decodeResult != SKCodecResult.Success)
        {
            return (null, $"image does not decode ({decodeResult})");
        }

        using var upright = Orient(decoded, codec.EncodedOrigin);
        var opaque = upright.AlphaType == SKAlphaType.Opaque;
        using var image = SKImage.FromBitmap(upright);

        SKData stored;
        if (type == "image/gif")
        {
            source.Position = 0;
            stored = SKData.Create(source);
        }
        else
        {
            var format = type switch
            {
                "image/jpeg" => SKEncodedImageFormat.Jpeg,
                "image/webp" => SKEncodedImageFormat.Webp,
                _ => SKEncodedImageFormat.Png,
            };
            stored = image.Encode(format, 90) ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}");
        }

        var scale = Math.Min(1.0, (double)ThumbnailMax / Math.Max(upright.Width, upright.Height));
        var thumbInfo = new SKImageInfo(Math.Max(1, (int)Math.Round(upright.Width * scale)), Math.Max(1, (int)Math.Round(upright.Height * scale)), SKImageInfo.PlatformColorType, upright.AlphaType);
        using var thumb = new SKBitmap(thumbInfo);
        upright.ScalePixels(thumb, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        using var thumbImage = SKImage.FromBitmap(thumb);
        var thumbData = thumbImage.Encode(opaque ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 80)
            ?? throw new InvalidOperationException("SkiaSharp could not encode a thumbnail");
        return (new ProcessedImage(stored, type, thumbData, opaque ? "image/jpeg" : "image/png"), null);
    }

    /// <summary>The bitmap as it should be seen: EXIF orientation applied (the same bitmap when it is already upright).</summary>
    private static SKBitmap Orient(SKBitmap source, SKEncodedOrigin origin)
    {
        var swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        float w = swap ? source.Height : source.Width;
        float h = swap ? source.Width : source.Height;
        // x' = a x + b y + c, y' = d x + e y + f, mapping the stored pixels to the upright picture.
        SKMatrix? matrix = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, w, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, w, -1, 0, h, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, h, 0, 0, 1),
            _ => null,
        };
        var upright = new SKBitmap(new SKImageInfo((int)w, (int)h, source.ColorType, source.AlphaType));
        if (matrix is null)
        {
            source.CopyTo(upright);
            return upright;
        }

        using var canvas = new SKCanvas(upright);
        canvas.SetMatrix(matrix.Value);
        using var sourceImage = SKImage.FromBitmap(source);
        canvas.DrawImage(sourceImage, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));
        return upright;
    }
}
