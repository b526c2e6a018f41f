namespace Chat.Tests.Infrastructure;

/// <summary>
/// A loopback TCP relay (<see cref="TcpProxy"/>) to a database port that cuts one connection right after its client
/// sent a commit: armed with <see cref="CutAfter"/>, the first connection whose client→server bytes hold <c>marker</c>
/// and then <c>commit</c> has those bytes delivered to the server, the server's answer withheld (the proxy waits for it,
/// so the server has acted on the commit) and then both sides closed. The client cannot tell whether its transaction
/// committed.
/// </summary>
public sealed class CommitCutProxy : IAsyncDisposable
{
    private readonly TcpProxy _relay;
    private Trigger? _armed;
    private TaskCompletionSource _cut = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CommitCutProxy(int upstreamPort) => _relay = TcpProxy.Start(upstreamPort, Inspect, Closed);

    public int Port => _relay.Port;

    /// <summary>Completes when the armed cut has happened.</summary>
    public Task Cut => _cut.Task;

    /// <summary>Whether the server had answered the cut commit before the cut (it always has unless it took 10 s).</summary>
    public bool ServerAnswered { get; private set; }

    public static CommitCutProxy Start(int upstreamPort) => new(upstreamPort);

    /// <summary>Arms a single cut: see the class summary.</summary>
    public void CutAfter(byte[] marker, byte[] commit)
    {
        _cut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _armed = new Trigger(marker, commit);
    }

    public ValueTask DisposeAsync() => _relay.DisposeAsync();

    private TcpProxy.Forward Inspect(TcpProxy.Link link, ReadOnlySpan<byte> chunk, bool toServer)
    {
        var state = link.StateOf<State>();
        if (!toServer)
        {
            if (!state.Cutting)
            {
                return TcpProxy.Forward.Pass;
            }

            ServerAnswered = true;
            return TcpProxy.Forward.Close; // the answer is withheld, and the link closed
        }

        if (_armed is not { } armed)
        {
            return TcpProxy.Forward.Pass;
        }

        state.Seen.AddRange(chunk);
        var seen = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(state.Seen);
        var marker = seen.IndexOf(armed.Marker);
        if (marker < 0 || seen[marker..].IndexOf(armed.Commit) < 0 || Interlocked.Exchange(ref _armed, null) is null)
        {
            return TcpProxy.Forward.Pass;
        }

        state.Cutting = true; // before the server can answer
        _ = CloseLaterAsync(link);
        return TcpProxy.Forward.PassThenStop;
    }

    /// <summary>The cut connection closes when the server answers (<see cref="Inspect"/>), or after 10 s.</summary>
    private async Task CloseLaterAsync(TcpProxy.Link link)
    {
        await Task.Delay(TimeSpan.FromSeconds(10));
        _relay.Close(link);
    }

    private void Closed(TcpProxy.Link link)
    {
        if (link.State is State { Cutting: true })
        {
            _cut.TrySetResult();
        }
    }

    private sealed record Trigger(byte[] Marker, byte[] Commit);

    private sealed class State
    {
        public List<byte> Seen { get; } = [];

        public volatile bool Cutting;
    }
}
