using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Chat.Server.Hub;
using Chat.Server.Sessions;

namespace Chat.Tests.Telemetry;

[Trait("Kind", "Unit")]
public sealed class BusPayloadTests
{
    private static readonly byte[] Frame = Encoding.UTF8.GetBytes("{\"msgid\":6,\"msg\":\"hi\"}\n");

    [Fact]
    public void Publish_time_and_trace_context_survive_the_round_trip()
    {
        var trace = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var origin = Guid.NewGuid();
        var payload = BusPayload.Encode(new Delivery(-5, 7, 1, 2, Frame) { ExceptSession = 42 }, new BusEnvelope(origin, 638_000_000_000_000_000, trace));

        Assert.True(BusPayload.TryDecode(payload, out var delivery, out var envelope));

        Assert.Equal((-5L, 7L, 1, 2, 42L), (delivery.ConversationId, delivery.Seq, delivery.SenderId, delivery.TargetId, delivery.ExceptSession));
        Assert.Equal(Frame, delivery.Frame.ToArray());
        Assert.Equal(origin, envelope.Origin);
        Assert.Equal(638_000_000_000_000_000, envelope.PublishedAtTicks);
        Assert.Equal((trace.TraceId, trace.SpanId, trace.TraceFlags), (envelope.Trace.TraceId, envelope.Trace.SpanId, envelope.Trace.TraceFlags));
        Assert.True(envelope.Trace.IsRemote);
    }

    [Fact]
    public void Without_a_span_no_trace_context_is_decoded()
    {
        var payload = BusPayload.Encode(new Delivery(3, 1, 1, 3, Frame), new BusEnvelope(Guid.NewGuid(), 1, default));

        Assert.True(BusPayload.TryDecode(payload, out _, out var envelope));
        Assert.Equal(default, envelope.Trace);
    }

    [Fact]
    public void A_version_1_payload_is_still_read()
    {
        var origin = Guid.NewGuid();
        var payload = new byte[41 + Frame.Length];
        payload[0] = 1;
        origin.TryWriteBytes(payload.AsSpan(1, 16));
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(17), 9);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(25), 4);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(33), 1);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(37), 9);
        Frame.CopyTo(payload, 41);

        Assert.True(BusPayload.TryDecode(payload, out var delivery, out var envelope));

        Assert.Equal((9L, 4L, 1, 9), (delivery.ConversationId, delivery.Seq, delivery.SenderId, delivery.TargetId));
        Assert.Equal(Frame, delivery.Frame.ToArray());
        Assert.Equal((origin, 0L, default(ActivityContext)), (envelope.Origin, envelope.PublishedAtTicks, envelope.Trace));
    }

    [Fact]
    public void A_version_2_payload_from_a_replica_not_yet_upgraded_skips_no_session()
    {
        var current = BusPayload.Encode(new Delivery(3, 2, 1, 3, Frame) { ExceptSession = 42 }, new BusEnvelope(Guid.NewGuid(), 5, default));
        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(current.AsSpan(1));
        var v2 = current.AsSpan(0, headerLength - 8 - 5).ToArray().Concat(Frame).ToArray();
        v2[0] = 2;
        BinaryPrimitives.WriteUInt16LittleEndian(v2.AsSpan(1), (ushort)(headerLength - 8 - 5));

        Assert.True(BusPayload.TryDecode(v2, out var delivery, out var envelope));

        Assert.Equal((2L, 0L, 5L), (delivery.Seq, delivery.ExceptSession, envelope.PublishedAtTicks));
        Assert.Equal(Frame, delivery.Frame.ToArray());
    }

    [Fact]
    public void A_later_version_with_a_longer_header_is_read_up_to_its_frame()
    {
        var current = BusPayload.Encode(new Delivery(3, 2, 1, 3, Frame), new BusEnvelope(Guid.NewGuid(), 5, default));
        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(current.AsSpan(1));
        var later = new byte[current.Length + 10];
        current.AsSpan(0, headerLength).CopyTo(later);
        later[0] = 4;
        BinaryPrimitives.WriteUInt16LittleEndian(later.AsSpan(1), (ushort)(headerLength + 10));
        Frame.CopyTo(later, headerLength + 10);

        Assert.True(BusPayload.TryDecode(later, out var delivery, out var envelope));

        Assert.Equal(Frame, delivery.Frame.ToArray());
        Assert.Equal(5, envelope.PublishedAtTicks);
    }

    [Fact]
    public void A_deliverys_kind_and_the_group_it_says_was_left_cross_the_bus_as_said()
    {
        var gone = Chat.Protocol.ServerFrames.MemberGone(8, 3, by: 1);
        Assert.True(BusPayload.TryDecode(BusPayload.Encode(Delivery.GroupLeftBy(1, 3, 8, gone), new BusEnvelope(Guid.NewGuid(), 5, default)), out var left, out _));
        Assert.Equal((DeliveryKind.GroupLeft, 8), (left.Kind, left.LeftGroup));

        // A REMOVE_MEMBER frame sent to the group's members is a push like any other: only its maker says which is which.
        Assert.True(BusPayload.TryDecode(BusPayload.Encode(Delivery.PushToGroup(3, 8, gone), new BusEnvelope(Guid.NewGuid(), 5, default)), out var push, out _));
        Assert.Equal((DeliveryKind.Push, 0), (push.Kind, push.LeftGroup));

        var recalled = new Chat.Domain.StoredMessage(new Chat.Domain.ChatMessage(-5, 1, "a", 2, "gone", "t", 1, null), 4) { Recalled = true };
        Assert.True(BusPayload.TryDecode(BusPayload.Encode(Delivery.Of(recalled), new BusEnvelope(Guid.NewGuid(), 5, default)), out var tombstone, out _));
        Assert.Equal(DeliveryKind.Recalled, tombstone.Kind);
        Assert.False(tombstone.ForSeed);

        // A block's presence withdrawal: a push whose sender (the blocker) the recipient stops watching.
        Assert.True(BusPayload.TryDecode(BusPayload.Encode(Delivery.PresenceWithdrawnBy(1, 2), new BusEnvelope(Guid.NewGuid(), 5, default)), out var withdrawn, out _));
        Assert.Equal((DeliveryKind.PresenceWithdrawn, 1, 2, true), (withdrawn.Kind, withdrawn.SenderId, withdrawn.TargetId, withdrawn.IsPush));
    }

    [Fact]
    public void A_version_3_payload_from_a_replica_not_yet_upgraded_has_its_kind_told_as_that_replica_told_it()
    {
        static Delivery AsVersion3(Delivery delivery)
        {
            var current = BusPayload.Encode(delivery, new BusEnvelope(Guid.NewGuid(), 5, default));
            var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(current.AsSpan(1));
            var v3 = current.AsSpan(0, headerLength - 5).ToArray().Concat(delivery.Frame.ToArray()).ToArray();
            v3[0] = 3;
            BinaryPrimitives.WriteUInt16LittleEndian(v3.AsSpan(1), (ushort)(headerLength - 5));
            Assert.True(BusPayload.TryDecode(v3, out var decoded, out _));
            return decoded;
        }

        var removed = AsVersion3(Delivery.GroupLeftBy(1, 3, 8, Chat.Protocol.ServerFrames.MemberGone(8, 3, by: 1)));
        var left = AsVersion3(Delivery.GroupLeftBy(3, 3, 9, Chat.Protocol.ServerFrames.MemberGone(9, 3, by: null)));
        var notice = AsVersion3(Delivery.PushToUser(1, 3, Chat.Protocol.ServerFrames.ReadNotice(1, 1, null, 4)));
        var closing = AsVersion3(Delivery.Closing(3, 42, Frame));
        var chat = AsVersion3(Delivery.Of(new Chat.Domain.StoredMessage(new Chat.Domain.ChatMessage(8, 1, "a", 8, "{\"msgid\":22}", "t", 1, null), 1)));

        Assert.Equal((DeliveryKind.GroupLeft, 8), (removed.Kind, removed.LeftGroup));
        Assert.Equal((DeliveryKind.GroupLeft, 9), (left.Kind, left.LeftGroup));
        Assert.Equal((DeliveryKind.Push, 0), (notice.Kind, notice.LeftGroup));
        Assert.Equal((DeliveryKind.Close, 42L), (closing.Kind, closing.ExceptSession));
        Assert.Equal((DeliveryKind.Message, 0), (chat.Kind, chat.LeftGroup));
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0, 1, 2 })]
    [InlineData(new byte[] { 2, 10, 0, 1 })]
    [InlineData(new byte[] { 1, 2, 3 })]
    public void Payloads_it_does_not_understand_are_refused(byte[] payload) =>
        Assert.False(BusPayload.TryDecode(payload, out _, out _));
}
