using System.Buffers;
using System.Text;
using Chat.Bench;

namespace Chat.Tests.Bench;

[Trait("Kind", "Unit")]
public sealed class SeedFramesTests
{
    [Fact]
    public void A_chat_frame_is_what_the_seed_client_sends_ending_with_nul()
    {
        var output = new ArrayBufferWriter<byte>();
        using var writer = new System.Text.Json.Utf8JsonWriter(output, SeedFrames.WriterOptions);

        SeedFrames.WriteChat(writer, output, 3, "bench-1", 4, "17 xx"u8, "2026-11-30 05:00:00");

        Assert.Equal("""{"msgid":6,"id":3,"from":"bench-1","toid":4,"msg":"17 xx","time":"2026-11-30 05:00:00"}""" + "\0", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("{\"msgid\":5,\"errno\":0,\"id\":1}{\"msgid\":6,\"msg\":\"}{\"}", 0, 28)] // the seed: objects back to back, braces in strings
    [InlineData("\n\0 {\"msgid\":6,\"a\":{\"b\":[1]}}\n", 3, 25)] // Chat's newline, NULs and nesting
    public void A_received_frame_is_cut_where_its_object_closes(string received, int start, int length)
    {
        Assert.True(SeedFrames.TryCut(Encoding.UTF8.GetBytes(received), out var s, out var n));
        Assert.Equal((start, length), (s, n));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\0")]
    [InlineData("{\"msgid\":6,\"msg\":\"no end")]
    public void A_partial_frame_waits_for_more(string received)
    {
        Assert.False(SeedFrames.TryCut(Encoding.UTF8.GetBytes(received), out _, out _));
    }

    [Fact]
    public void Compare_gives_each_run_its_ratio_to_the_seeds_same_server_rate_of_its_round()
    {
        string[] lines =
        [
            """{"workload":"seed-pingpong","pairs":50,"endpoints":1,"label":"seed","round":1,"deliveredPerSecond":20000,"p50Ms":0.1,"p99Ms":30,"lost":0,"serverCpuUsPerMsg":30,"serverCpu":[{"process":"ChatServer:7000","usPerMsg":30}]}""",
            """{"workload":"seed-pingpong","pairs":50,"endpoints":2,"label":"seed","round":1,"deliveredPerSecond":0,"p50Ms":null,"p99Ms":null,"lost":50}""",
            """{"workload":"seed-pingpong","pairs":50,"endpoints":1,"label":"chat","round":1,"deliveredPerSecond":25000,"p50Ms":2,"p99Ms":8,"lost":0,"serverCpuUsPerMsg":90}""",
            "not a result line",
        ];
        var table = new StringWriter();

        SeedComparison.Write(lines, table);

        var rows = table.ToString().Split('\n').Where(l => l.StartsWith("| 1 |", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.Contains("| chat | same server, 50 pairs | 25,000 | 1.25× | 2.00 ms | 8.00 ms | 0 | 90 |", rows[0], StringComparison.Ordinal);
        Assert.Contains("| seed | same server, 50 pairs | 20,000 | 1.00× |", rows[1], StringComparison.Ordinal);
        Assert.Contains("| seed | across servers, 50 pairs | 0 | 0.00× | – | – | 50 | – |", rows[2], StringComparison.Ordinal);
    }
}
