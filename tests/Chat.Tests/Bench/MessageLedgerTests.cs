using Chat.Bench;

namespace Chat.Tests.Bench;

[Trait("Kind", "Unit")]
public sealed class MessageLedgerTests
{
    [Fact]
    public void Lost_counts_acked_deliveries_that_never_came_and_timed_out_counts_unanswered_messages()
    {
        var ledger = new MessageLedger();
        var delivered = ledger.Register(2, 100);
        var halfDelivered = ledger.Register(2, 100);
        var unanswered = ledger.Register(1, 100);
        var rejected = ledger.Register(1, 100);

        ledger.Ack(delivered, ok: true);
        ledger.Ack(halfDelivered, ok: true);
        ledger.Ack(rejected, ok: false);
        Assert.Equal(100, ledger.Deliver(delivered));
        Assert.Equal(100, ledger.Deliver(delivered));
        Assert.Equal(-1, ledger.Deliver(delivered));
        ledger.Deliver(halfDelivered);
        ledger.Deliver(unanswered);

        Assert.False(ledger.Settled);
        Assert.Equal((1L, 1L), ledger.Reconcile());
        Assert.Equal((4L, 2L, 1L, 4L, 1L), (ledger.Sent, ledger.Acked, ledger.Rejected, ledger.Delivered, ledger.Duplicates));
    }

    [Fact]
    public void Numbers_it_never_gave_out_are_unknown_and_a_repeated_ack_counts_once()
    {
        var ledger = new MessageLedger();
        var id = ledger.Register(1, 0);

        Assert.Equal(-1, ledger.Deliver(id + 1));
        ledger.Ack(0, ok: true);
        ledger.Ack(id, ok: true);
        ledger.Ack(id, ok: true);
        ledger.Deliver(id);

        Assert.Equal((2L, 1L), (ledger.Unknown, ledger.Acked));
        Assert.True(ledger.Settled);
    }

    [Fact]
    public void Holds_more_messages_than_one_chunk()
    {
        var ledger = new MessageLedger();
        for (var i = 0; i < 200_000; i++) ledger.Ack(ledger.Register(1, i), ok: true);

        Assert.Equal(200_000, ledger.Sent);
        Assert.Equal((200_000L, 0L), ledger.Reconcile());
    }
}
