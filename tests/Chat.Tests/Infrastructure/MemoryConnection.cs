using System.IO.Pipelines;
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

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
