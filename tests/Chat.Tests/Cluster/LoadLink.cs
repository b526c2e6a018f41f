using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Chat.Protocol;

namespace Chat.Tests.Cluster;

/// <summary>
/// One logged-in connection of <see cref="ChatLoad"/>: a read loop hands every frame to a callback and ends when
/// the server closes; requests with a cid wait for their ACK with a deadline. Never throws for a dead connection:
/// the caller sees null and reconnects.
/// </summary>
internal sealed class LoadLink : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly Action<JsonObject> _onFrame;
    private readonly Dictionary<string, TaskCompletionSource<JsonObject?>> _waiting = [];
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private Task _reading = Task.CompletedTask;
    private bool _closed;

    private LoadLink(TcpClient tcp, Action<JsonObject> onFrame)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _onFrame = onFrame;
    }

    /// <summary>Completes when the server closed the connection (or it broke).</summary>
    public Task Closed => _reading;

    /// <summary>Connects and logs in; null when the connection or the login failed (the reason in <paramref name="why"/>).</summary>
    public static async Task<(LoadLink? Link, JsonObject? Login, string Why)> LoginAsync(
        int port, int id, string password, IReadOnlyList<ResumePoint> resume, Action<JsonObject> onFrame)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync("127.0.0.1", port).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException)
        {
            tcp.Dispose();
            return (null, null, ex.Message);
        }

        var link = new LoadLink(tcp, onFrame);
        link._reading = link.ReadAsync();
        var login = await link.RequestAsync(new LoginRequest(id, password, Version: 2, resume) { Cid = Cid.From("login") }, TimeSpan.FromSeconds(10));
        if (login is { } ack && (int)ack[Field.Errno.Value]! == 0)
        {
            return (link, ack, "");
        }

        await link.DisposeAsync();
        return (null, null, login?.ToJsonString() ?? "no answer to LOGIN");
    }

    /// <summary>Sends a request with a string cid and waits for the frame echoing it; null if the connection ended or
    /// nothing came in time.</summary>
    public async Task<JsonObject?> RequestAsync(Request request, TimeSpan timeout)
    {
        var cid = request.Cid?.Text ?? throw new ArgumentException("a request that waits for its answer needs a cid", nameof(request));
        var answer = new TaskCompletionSource<JsonObject?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiting)
        {
            if (_closed)
            {
                return null;
            }

            _waiting[cid] = answer;
        }

        try
        {
            await _writeLock.WaitAsync();
            try
            {
                await _stream.WriteAsync(RequestWriter.ToFrame(request));
            }
            finally
            {
                _writeLock.Release();
            }

            return await answer.Task.WaitAsync(timeout);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or TimeoutException or SocketException)
        {
            return null;
        }
        finally
        {
            lock (_waiting) _waiting.Remove(cid);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        await _reading;
        _writeLock.Dispose();
    }

    private async Task ReadAsync()
    {
        await Task.Yield();
        var reader = PipeReader.Create(_stream);
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                var buffer = result.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    Handle(JsonNode.Parse(Encoding.UTF8.GetString(buffer.Slice(0, end).ToArray()))!.AsObject());
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException)
        {
            // The connection is gone: Closed completes.
        }
        finally
        {
            await reader.CompleteAsync();
            lock (_waiting)
            {
                _closed = true;
                foreach (var waiting in _waiting.Values) waiting.TrySetResult(null);
            }
        }
    }

    private void Handle(JsonObject frame)
    {
        if (frame[Field.Cid.Value] is { } cid)
        {
            TaskCompletionSource<JsonObject?>? waiting;
            lock (_waiting) _waiting.TryGetValue(cid.ToString(), out waiting);
            if (waiting is not null)
            {
                waiting.TrySetResult(frame);
                return;
            }
        }

        _onFrame(frame);
    }
}
