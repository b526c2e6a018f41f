using System.Buffers.Binary;
using SkiaSharp;

namespace Chat.Tests.Files;

/// <summary>Images made here for the tests: drawn with SkiaSharp, with an EXIF block (orientation, GPS) spliced in by hand.</summary>
public static class TestImages
{
    /// <summary>The GPS latitude reference written into the EXIF block: it must not come back.</summary>
    public static readonly byte[] GpsMarker = "N\0"u8.ToArray();

    /// <summary>A <paramref name="width"/> × <paramref name="height"/> JPEG (left half red, right half blue) with EXIF orientation 6 (rotate 90° clockwise) and a GPS block.</summary>
    public static byte[] JpegWithExif(int width, int height)
    {
        var plain = Encode(width, height, SKEncodedImageFormat.Jpeg);
        var exif = ExifSegment(orientation: 6);
        // After SOI (FF D8): the APP1 segment, then the rest of the encoder's output.
        return [.. plain[..2], .. exif, .. plain[2..]];
    }

    public static byte[] Png(int width, int height) => Encode(width, height, SKEncodedImageFormat.Png);

    public static byte[] Encode(int width, int height, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Red);
            using var blue = new SKPaint { Color = SKColors.Blue };
            canvas.DrawRect(width / 2f, 0, width / 2f, height, blue);
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>Width and height of an encoded image, and whether it holds an EXIF block.</summary>
    public static (int Width, int Height, bool HasExif) Inspect(byte[] encoded)
    {
        using var codec = SKCodec.Create(new MemoryStream(encoded)) ?? throw new InvalidOperationException("does not decode");
        return (codec.Info.Width, codec.Info.Height, encoded.AsSpan().IndexOf("Exif\0\0"u8) >= 0);
    }

    /// <summary>APP1 "Exif": a big-endian TIFF with IFD0 { Orientation, GPS IFD pointer } and a GPS IFD { GPSLatitudeRef "N" }.</summary>
    private static byte[] ExifSegment(ushort orientation)
    {
        var tiff = new byte[8 + 2 + (2 * 12) + 4 + 2 + 12 + 4];
        var s = tiff.AsSpan();
        "MM"u8.CopyTo(s);
        BinaryPrimitives.WriteUInt16BigEndian(s[2..], 42);
        BinaryPrimitives.WriteUInt32BigEndian(s[4..], 8);
        var ifd0 = 8;
        BinaryPrimitives.WriteUInt16BigEndian(s[ifd0..], 2);
        Entry(s[(ifd0 + 2)..], 0x0112, 3, 1, (uint)orientation << 16);
        var gpsIfd = ifd0 + 2 + 24 + 4;
        Entry(s[(ifd0 + 14)..], 0x8825, 4, 1, (uint)gpsIfd);
        BinaryPrimitives.WriteUInt32BigEndian(s[(ifd0 + 26)..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(s[gpsIfd..], 1);
        Entry(s[(gpsIfd + 2)..], 0x0001, 2, 2, 0);
        GpsMarker.CopyTo(s[(gpsIfd + 2 + 8)..]);
        BinaryPrimitives.WriteUInt32BigEndian(s[(gpsIfd + 14)..], 0);

        var length = 2 + 6 + tiff.Length;
        byte[] segment = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. "Exif\0\0"u8, .. tiff];
        return segment;

        static void Entry(Span<byte> at, ushort tag, ushort type, uint count, uint value)
        {
            BinaryPrimitives.WriteUInt16BigEndian(at, tag);
            BinaryPrimitives.WriteUInt16BigEndian(at[2..], type);
            BinaryPrimitives.WriteUInt32BigEndian(at[4..], count);
            BinaryPrimitives.WriteUInt32BigEndian(at[8..], value);
        }
    }
}
