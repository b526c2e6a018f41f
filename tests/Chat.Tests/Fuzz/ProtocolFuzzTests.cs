using System.Buffers;
using System.Diagnostics;
using Chat.Protocol;
using Xunit.Abstractions;

namespace Chat.Tests.Fuzz;

/// <summary>
/// The pure protocol layer under fuzzing, no socket: the frame reader fed in random chunks must agree with a
/// plain reference splitter, and the request parser must answer every frame without throwing.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class ProtocolFuzzTests(ITestOutputHelper output)
{
    private const int MaxFrameBytes = 64 * 1024;

    [Fact]
    public void Random_and_mutated_input_is_framed_like_the_reference_and_parsed_without_throwing()
    {
        var seed = FuzzInputs.SeedFromEnvironment();
        var duration = FuzzInputs.DurationFromEnvironment(2);
        output.WriteLine($"CHAT_FUZZ_SEED={seed} CHAT_FUZZ_SECONDS={duration.TotalSeconds}");
        var inputs = new FuzzInputs(seed);
        var clock = Stopwatch.StartNew();
        var iterations = 0;
        while (clock.Elapsed < duration)
        {
            // Several inputs back to back, as one connection's stream.
            var stream = Enumerable.Range(0, inputs.Random.Next(1, 6)).SelectMany(_ => inputs.Next()).ToArray();
            Check(stream, inputs, $"seed {seed}, iteration {iterations}");
            iterations++;
        }

        output.WriteLine($"{iterations} streams in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(iterations > 0);
    }

    [Fact]
    public void The_regression_corpus_is_framed_like_the_reference_and_parsed_without_throwing()
    {
        var corpus = FuzzInputs.Corpus().ToList();
        Assert.NotEmpty(corpus);
        var inputs = new FuzzInputs(1);
        foreach (var (name, bytes) in corpus)
        {
            Check(bytes, inputs, name);
        }
    }

    private static void Check(byte[] stream, FuzzInputs inputs, string what)
    {
        var (expected, expectedTooLarge) = Reference(stream);
        var (frames, tooLarge) = Feed(stream, inputs);
        Assert.True(expectedTooLarge == tooLarge, $"{what}: too large {tooLarge}, reference says {expectedTooLarge}");
        Assert.True(expected.Count == frames.Count, $"{what}: {frames.Count} frames, reference has {expected.Count}");
        for (var i = 0; i < frames.Count; i++)
        {
            Assert.True(expected[i].AsSpan().SequenceEqual(frames[i]), $"{what}: frame {i} differs from the reference");
            ParseChecked(frames[i], inputs, what);
        }
    }

    /// <summary>Frames as the server's read loop sees them: chunks arrive, complete frames are taken, the rest waits.</summary>
    private static (List<byte[]> Frames, bool TooLarge) Feed(byte[] stream, FuzzInputs inputs)
    {
        var frames = new List<byte[]>();
        var pending = Array.Empty<byte>();
        for (var at = 0; at < stream.Length;)
        {
            var chunk = Math.Min(stream.Length - at, inputs.Random.Next(1, 8192));
            pending = [.. pending, .. stream.AsSpan(at, chunk)];
            at += chunk;
            var buffer = inputs.Segmented(pending);
            while (true)
            {
                var status = FrameReader.TryReadFrame(ref buffer, MaxFrameBytes, out var frame);
                if (status == FrameStatus.TooLarge)
                {
                    return (frames, true);
                }

                if (status == FrameStatus.Incomplete)
                {
                    break;
                }

                Assert.InRange(frame.Length, 1, MaxFrameBytes);
                frames.Add(frame.ToArray());
            }

            pending = buffer.ToArray();
        }

        return (frames, false);
    }

    /// <summary>The framing rules, written as plainly as possible.</summary>
    private static (List<byte[]> Frames, bool TooLarge) Reference(byte[] stream)
    {
        var frames = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < stream.Length; i++)
        {
            if (stream[i] is not ((byte)'\n' or 0))
            {
                continue;
            }

            var frame = stream[start..i];
            start = i + 1;
            if (frame.Length > MaxFrameBytes)
            {
                return (frames, true);
            }

            if (frame.Length > 0 && frame[^1] == '\r')
            {
                frame = frame[..^1];
            }

            if (frame.Length > 0)
            {
                frames.Add(frame);
            }
        }

        return (frames, stream.Length - start > MaxFrameBytes);
    }

    private static void ParseChecked(byte[] frame, FuzzInputs inputs, string what)
    {
        var ok = RequestReader.TryParse(inputs.Segmented(frame), out var request, out var error);
        var again = RequestReader.TryParse(new ReadOnlySequence<byte>(frame), out var request2, out var error2);
        Assert.True(ok == again, $"{what}: the parse depends on how the frame is segmented");
        if (ok)
        {
            Assert.True(Enum.IsDefined(request!.MsgId), $"{what}: parsed an undefined msgid {request.MsgId}");
            Assert.Equal(request.Cid, request2!.Cid);
            // Records compare lists by reference: compare what they hold.
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize<object>(request), System.Text.Json.JsonSerializer.Serialize<object>(request2!));
        }
        else
        {
            Assert.NotNull(error);
            Assert.True(error.Code is ErrorCode.BadRequest or ErrorCode.UnknownMsgId, $"{what}: unexpected error code {error.Code}");
            Assert.False(string.IsNullOrEmpty(error.Message));
            Assert.Equal(error.Message, error2!.Message);
        }
    }
}
