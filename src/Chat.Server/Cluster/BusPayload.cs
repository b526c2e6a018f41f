using System.Buffers.Binary;
using Chat.Server.Connections;

namespace Chat.Server.Cluster;

/// <summary>
/// A delivery as it crosses Redis: a fixed header (version, origin replica, conversation, seq, sender, target)
/// followed by the frame exactly as recipients get it, so the receiving replica only copies it to sockets.
/// </summary>
public static class BusPayload
{
    private const byte Version = 1;
    private const int HeaderLength = 1 + 16 + 8 + 8 + 4 + 4;

    public static byte[] Encode(Delivery delivery, Guid origin)
    {
        var payload = new byte[HeaderLength + delivery.Frame.Length];
        var span = payload.AsSpan();
        span[0] = Version;
        origin.TryWriteBytes(span[1..17]);
        BinaryPrimitives.WriteInt64LittleEndian(span[17..], delivery.ConversationId);
        BinaryPrimitives.WriteInt64LittleEndian(span[25..], delivery.Seq);
        BinaryPrimitives.WriteInt32LittleEndian(span[33..], delivery.SenderId);
        BinaryPrimitives.WriteInt32LittleEndian(span[37..], delivery.TargetId);
        delivery.Frame.Span.CopyTo(span[HeaderLength..]);
        return payload;
    }

    /// <returns>False for a payload this version does not understand.</returns>
    public static bool TryDecode(byte[] payload, out Delivery delivery, out Guid origin)
    {
        if (payload.Length <= HeaderLength || payload[0] != Version)
        {
            delivery = null!;
            origin = default;
            return false;
        }

        var span = payload.AsSpan();
        origin = new Guid(span[1..17]);
        delivery = new Delivery(
            BinaryPrimitives.ReadInt64LittleEndian(span[17..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[25..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[33..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[37..]),
            payload.AsMemory(HeaderLength));
        return true;
    }
}
