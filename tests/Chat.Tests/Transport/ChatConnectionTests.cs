using System.IO.Pipelines;
using Chat.Server.Transport;
using Chat.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;

namespace Chat.Tests.Transport;

/// <summary>The connection's writer over in-memory pipes: its queue is bounded in bytes, whatever the frames' size.</summary>
[Trait("Kind", "Unit")]
public sealed class ChatConnectionTests
{
    private const int PipeThreshold = 64 * 1024;

    [Fact]
    public async Task A_client_that_does_not_read_large_frames_holds_at_most_the_budget_then_is_cut_off()
    {
        // What the client has not read stays in the pipe up to its pause threshold, as in a socket's buffers.
        var pipes = new MemoryConnection("slow", new PipeOptions(pauseWriterThreshold: PipeThreshold, resumeWriterThreshold: PipeThreshold / 2));
        var context = pipes.Context;
        var options = new ConnectionOptions { OutboundQueueBytes = 1024 * 1024 };
        var connection = new ChatConnection(context, options);
        connection.StartWriter();

        var frame = new byte[100 * 1024];
        frame[^1] = (byte)'\n';
        long held = 0;
        for (var sent = 0; sent < 1000; sent++)
        {
            connection.Send(frame);
            held = Math.Max(held, connection.QueuedBytes);
        }

        await Wait.UntilAsync(() => context.ConnectionClosed.IsCancellationRequested, TimeSpan.FromSeconds(10), "the client that does not read is cut off");
        // 100 MB offered: what was queued stayed within the budget (bytes count until their flush completes), and
        // what reached the pipe, whichever way the writer batched it, is the budget plus the pipe's threshold at most.
        // (Sampled after each Send, racing the writer: it may read 0 in a run where the writer kept up until the cut-off;
        // the bound is what matters here, and the pipe's contents below show the frames went out.)
        Assert.InRange(held, 0, options.OutboundQueueBytes);
        Assert.InRange(pipes.FromServer.TryRead(out var unread) ? unread.Buffer.Length : 0, 1, options.OutboundQueueBytes + PipeThreshold);
    }

    [Fact]
    public async Task A_client_that_reads_gets_every_frame_however_many_pass_through_the_budget()
    {
        var pipes = new MemoryConnection("reader");
        var context = pipes.Context;
        var connection = new ChatConnection(context, new ConnectionOptions { OutboundQueueBytes = 16 * 1024 });
        connection.StartWriter();

        var frame = "{\"msgid\":14}\n"u8.ToArray();
        long received = 0;
        for (var i = 0; i < 10_000; i++)
        {
            connection.Send(frame);
            if (connection.QueuedBytes > 8 * 1024)
            {
                // The client reads as it goes: the budget is about what waits, not what passes.
                await connection.WhenWrittenAsync();
                received += await DrainAsync(pipes.FromServer);
            }
        }

        await connection.WhenWrittenAsync();
        received += await DrainAsync(pipes.FromServer);
        Assert.False(context.ConnectionClosed.IsCancellationRequested);
        Assert.Equal(10_000L * frame.Length, received);
    }

    private static async Task<long> DrainAsync(PipeReader reader)
    {
        if (!reader.TryRead(out var result))
        {
            result = await reader.ReadAsync();
        }

        var length = result.Buffer.Length;
        reader.AdvanceTo(result.Buffer.End);
        return length;
    }
}
