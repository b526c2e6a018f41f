using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// A Kestrel connection on in-memory pipes, for unit tests of what runs on one: <see cref="Context"/> is the server's
/// side; the test reads what the server wrote from <see cref="FromServer"/>.
/// </summary>
public sealed class MemoryConnection
{
    private readonly Pipe _toClient;
    private readonly Pipe _toServer = new();

    /// <param name="toClient">Options of the server → client pipe (its pause threshold stands for socket buffers).</param>
    public MemoryConnection(string id = "test", PipeOptions? toClient = null)
    {
        _toClient = new Pipe(toClient ?? PipeOptions.Default);
        Context = new DefaultConnectionContext(id, new Duplex(_toServer.Reader, _toClient.Writer), new Duplex(_toClient.Reader, _toServer.Writer));
    }

    public DefaultConnectionContext Context { get; }

    public PipeReader FromServer => _toClient.Reader;

    public PipeWriter ToServer => _toServer.Writer;

    /// <summary>The next frame the server wrote, without its newline; fails after 10 s without one.</summary>
    public async Task<string> ReadLineAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var result = await FromServer.ReadAsync(deadline.Token);
            if (result.Buffer.PositionOf((byte)'\n') is { } end)
            {
                var line = Encoding.UTF8.GetString(result.Buffer.Slice(0, end));
                FromServer.AdvanceTo(result.Buffer.GetPosition(1, end));
                return line;
            }

            FromServer.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
