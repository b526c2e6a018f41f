using System.Buffers.Binary;
using System.Diagnostics;
using Chat.Server.Sessions;

namespace Chat.Server.Hub;

/// <summary>Where a bus payload comes from: the publishing process, when it was published, and the trace it belongs to.</summary>
/// <param name="PublishedAtTicks">UTC ticks at publish; 0 when the publisher did not say (version 1).</param>
/// <param name="Trace">The publishing span; default when none was recorded.</param>
public readonly record struct BusEnvelope(Guid Origin, long PublishedAtTicks, ActivityContext Trace);

/// <summary>
/// A delivery as it crosses Redis: a header followed by the frame exactly as recipients get it, so the receiving
/// replica only copies it to sockets.
/// <para>Version 1 header (41 bytes): version, origin replica (16), conversation (8), seq (8), sender (4), target (4).</para>
/// <para>Version 2 and later: version, header length (2), the same fields, publish time (UTC ticks, 8), and the
/// W3C trace context of the publishing span: trace id (16), span id (8), trace flags (1); all zero without one.
/// Version 3 appends the session the delivery skips (8; 0 for none). Version 4 appends the delivery's kind (1,
/// <see cref="DeliveryKind"/>) and the group a <see cref="DeliveryKind.GroupLeft"/> push names (4; 0 otherwise): a
/// receiver no longer tells a kind by the seq, the conversation or the frame (it still does for the older versions).
/// A reader takes the fields it knows and starts the frame at the header length, so later versions may append
/// fields without breaking it. All four versions are read.</para>
/// </summary>
public static class BusPayload
{
    private const byte Version = 4;
    private const int V1HeaderLength = 1 + 16 + 8 + 8 + 4 + 4;
    private const int V2HeaderLength = 1 + 2 + 16 + 8 + 8 + 4 + 4 + 8 + 16 + 8 + 1;
    private const int V3HeaderLength = V2HeaderLength + 8;
    private const int HeaderLength = V3HeaderLength + 1 + 4;

    public static byte[] Encode(Delivery delivery, in BusEnvelope envelope)
    {
        var payload = new byte[HeaderLength + delivery.Frame.Length];
        var span = payload.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteUInt16LittleEndian(span[1..], HeaderLength);
        envelope.Origin.TryWriteBytes(span[3..19]);
        BinaryPrimitives.WriteInt64LittleEndian(span[19..], delivery.ConversationId);
        BinaryPrimitives.WriteInt64LittleEndian(span[27..], delivery.Seq);
        BinaryPrimitives.WriteInt32LittleEndian(span[35..], delivery.SenderId);
        BinaryPrimitives.WriteInt32LittleEndian(span[39..], delivery.TargetId);
        BinaryPrimitives.WriteInt64LittleEndian(span[43..], envelope.PublishedAtTicks);
        if (envelope.Trace != default)
        {
            envelope.Trace.TraceId.CopyTo(span[51..67]);
            envelope.Trace.SpanId.CopyTo(span[67..75]);
            span[75] = (byte)envelope.Trace.TraceFlags;
        }

        BinaryPrimitives.WriteInt64LittleEndian(span[76..], delivery.ExceptSession);
        span[84] = (byte)delivery.Kind;
        BinaryPrimitives.WriteInt32LittleEndian(span[85..], delivery.LeftGroup);

        delivery.Frame.Span.CopyTo(span[HeaderLength..]);
        return payload;
    }

    /// <returns>False for a payload this version does not understand.</returns>
    public static bool TryDecode(byte[] payload, out Delivery delivery, out BusEnvelope envelope)
    {
        delivery = null!;
        envelope = default;
        if (payload.Length == 0)
        {
            return false;
        }

        if (payload[0] == 1)
        {
            return TryDecodeV1(payload, out delivery, out envelope);
        }

        var span = payload.AsSpan();
        if (payload[0] < 2 || payload.Length < 3)
        {
            return false;
        }

        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(span[1..]);
        if (headerLength < V2HeaderLength || payload.Length <= headerLength)
        {
            return false;
        }

        var trace = default(ActivityContext);
        var traceId = span[51..67];
        if (traceId.ContainsAnyExcept((byte)0))
        {
            trace = new ActivityContext(
                ActivityTraceId.CreateFromBytes(traceId),
                ActivitySpanId.CreateFromBytes(span[67..75]),
                (ActivityTraceFlags)span[75],
                isRemote: true);
        }

        envelope = new BusEnvelope(new Guid(span[3..19]), BinaryPrimitives.ReadInt64LittleEndian(span[43..]), trace);
        delivery = new Delivery(
            BinaryPrimitives.ReadInt64LittleEndian(span[19..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[27..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[35..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[39..]),
            payload.AsMemory(headerLength))
        {
            ExceptSession = headerLength >= V3HeaderLength ? BinaryPrimitives.ReadInt64LittleEndian(span[76..]) : 0,
            Kind = headerLength >= HeaderLength ? (DeliveryKind)span[84] : default,
            LeftGroup = headerLength >= HeaderLength ? BinaryPrimitives.ReadInt32LittleEndian(span[85..]) : 0,
        };
        if (headerLength < HeaderLength)
        {
            delivery = Delivery.WithKindOfOlderReplica(delivery);
        }

        return true;
    }

    private static bool TryDecodeV1(byte[] payload, out Delivery delivery, out BusEnvelope envelope)
    {
        delivery = null!;
        envelope = default;
        if (payload.Length <= V1HeaderLength)
        {
            return false;
        }

        var span = payload.AsSpan();
        envelope = new BusEnvelope(new Guid(span[1..17]), 0, default);
        delivery = new Delivery(
            BinaryPrimitives.ReadInt64LittleEndian(span[17..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[25..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[33..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[37..]),
            payload.AsMemory(V1HeaderLength));
        delivery = Delivery.WithKindOfOlderReplica(delivery);
        return true;
    }
}
