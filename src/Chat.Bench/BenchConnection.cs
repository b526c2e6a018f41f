using Chat.Sdk;
using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Chat.Protocol;

namespace Chat.Bench;

/// <summary>What a workload does with each frame a connection receives (called on that connection's read loop).</summary>
public interface IFrameHandler
{
    ValueTask OnFrameAsync(BenchConnection connection, ServerFrame frame);
}

/// <summary>
/// One client connection speaking the chat protocol, over TCP or a WebSocket (<see cref="WebSocketFrameStream"/>: the
/// same bytes, one text message per frame): a reused receive buffer, frames written by
/// <see cref="RequestWriter"/> into a reused send buffer, one read loop. Before <see cref="RunAsync"/> it is driven request by request
/// (register, login, groups); sends never throw: a failed send marks the connection <see cref="Broken"/>.
/// With <see cref="Seed"/> it speaks as the seed's console client does (<see cref="SeedFrames"/>).
/// </summary>
public sealed class BenchConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly ArrayBufferWriter<byte> _out = new(256);
    private Utf8JsonWriter? _seedWriter;
    private byte[] _text = [];
    private byte[] _in = new byte[4096];
    private int _start;
    private int _end;
    private int _setupCid;
    private int _digits;

    private BenchConnection(Stream stream, int index, bool seed)
    {
        _stream = stream;
        Index = index;
        Seed = seed;
    }

    /// <summary>Position of this connection in its workload (the round-robin over endpoints uses it).</summary>
    public int Index { get; }

    public int UserId { get; private set; }

    /// <summary>The name this connection registered (the seed's chat frames carry it).</summary>
    public string Name { get; private set; } = "";

    /// <summary>Speaks the seed's protocol: NUL-terminated frames, LOGIN without "v":2, chat without cid.</summary>
    public bool Seed { get; }

    /// <summary>The user (pingpong, rate) or group (group) this connection sends to.</summary>
    public int Target { get; set; }

    /// <summary>True once a send failed or the read loop ended.</summary>
    public bool Broken { get; private set; }

    /// <summary>Workload counter per connection (idle: PONGs seen).</summary>
    public int Marks { get; set; }

    /// <param name="webSocket">Connect to <c>ws://endpoint/ws</c> (a replica's or nginx's HTTP port) instead of raw TCP.</param>
    public static async Task<BenchConnection> ConnectAsync(IPEndPoint endpoint, IPAddress? source, int index, bool webSocket, CancellationToken ct, bool seed = false)
    {
        if (webSocket)
        {
            return new BenchConnection(await WebSocketFrameStream.ConnectAsync(new Uri($"ws://{endpoint}/ws"), source, receiveBuffer: null, ct), index, seed);
        }

        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null) socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(endpoint, ct);
            return new BenchConnection(new NetworkStream(socket, ownsSocket: true), index, seed);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task<int> RegisterAsync(string name, string password, CancellationToken ct)
    {
        var ack = await RequestAsync(new RegisterRequest(name, password), MsgId.RegAck, ct);
        Name = name;
        return ack.Id;
    }

    public async Task LoginAsync(int id, string password, CancellationToken ct)
    {
        await RequestAsync(new LoginRequest(id, password, Version: Seed ? 0 : 2), MsgId.LoginAck, ct);
        UserId = id;
    }

    public async Task<int> CreateGroupAsync(string name, CancellationToken ct)
    {
        var ack = await RequestAsync(new CreateGroupRequest(name, null) { Cid = SetupCid() }, MsgId.Ack, ct);
        return ack.GroupId;
    }

    public Task JoinGroupAsync(int groupId, CancellationToken ct) =>
        RequestAsync(new JoinGroupRequest(groupId) { Cid = SetupCid() }, MsgId.Ack, ct);

    /// <summary>Receives and handles every frame until the connection closes or is disposed.</summary>
    public async Task RunAsync(IFrameHandler handler)
    {
        try
        {
            do
            {
                while (TryTakeFrame(out var frame))
                {
                    await handler.OnFrameAsync(this, frame);
                }
            }
            while (await FillAsync(CancellationToken.None));
        }
        catch (Exception e) when (e is IOException or SocketException or WebSocketException or ObjectDisposedException or JsonException)
        {
        }
        finally
        {
            Broken = true;
        }
    }

    /// <summary>ONE_CHAT to a user or GROUP_CHAT to a group; the text starts with <paramref name="messageId"/>,
    /// padded with 'x' to <paramref name="size"/> bytes, and the cid is the same number.</summary>
    public async ValueTask SendChatAsync(bool group, int target, long messageId, int size)
    {
        await _sendGate.WaitAsync();
        try
        {
            BuildChat(group, target, messageId, size);
            await SendBufferedAsync();
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>ONE_CHAT as the seed client sends it (no cid); the text starts with <paramref name="messageId"/>.</summary>
    public async ValueTask SendSeedChatAsync(int target, long messageId, int size, string time)
    {
        await _sendGate.WaitAsync();
        try
        {
            _out.ResetWrittenCount();
            SeedFrames.WriteChat(_seedWriter ??= new Utf8JsonWriter(_out, SeedFrames.WriterOptions), _out, UserId, Name, target, Text(messageId, size), time);
            await SendBufferedAsync();
        }
        finally
        {
            _sendGate.Release();
        }
    }

    public async ValueTask SendPingAsync(long cid)
    {
        await _sendGate.WaitAsync();
        try
        {
            _out.ResetWrittenCount();
            RequestWriter.Write(new PingRequest { Cid = Cid.From(cid) }, _out);
            await SendBufferedAsync();
        }
        finally
        {
            _sendGate.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        Broken = true;
        _seedWriter?.Dispose();
        return _stream.DisposeAsync();
    }

    private void BuildChat(bool group, int target, long messageId, int size)
    {
        var text = Text(messageId, size);
        _out.ResetWrittenCount();
        RequestWriter.WriteChat(_out, group, target, text, cid: text[.._digits]);
    }

    /// <summary>The message text: <paramref name="messageId"/>, a space, then 'x' up to <paramref name="size"/> bytes
    /// (valid until the next call).</summary>
    private ReadOnlySpan<byte> Text(long messageId, int size)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(messageId, digits, out var length);
        var textLength = Math.Max(size, length);
        if (_text.Length < textLength + 1)
        {
            _text = new byte[Math.Max(textLength, 21) + 1];
        }

        _text.AsSpan().Fill((byte)'x');
        digits[..length].CopyTo(_text);
        if (textLength > length) _text[length] = (byte)' ';
        _digits = length;
        return _text.AsSpan(0, textLength);
    }

    private Cid SetupCid() => Cid.From($"setup-{++_setupCid}");

    private async ValueTask SendBufferedAsync()
    {
        try
        {
            await _stream.WriteAsync(_out.WrittenMemory);
        }
        catch (Exception e) when (e is IOException or SocketException or WebSocketException or ObjectDisposedException)
        {
            Broken = true;
        }
    }

    private async Task<ServerFrame> RequestAsync(Request request, MsgId answer, CancellationToken ct)
    {
        _out.ResetWrittenCount();
        RequestWriter.Write(request, _out);
        if (Seed)
        {
            // The seed client ends its frames with NUL, not the newline RequestWriter writes.
            MemoryMarshal.AsMemory(_out.WrittenMemory).Span[^1] = 0;
        }

        await SendBufferedAsync();
        while (true)
        {
            ServerFrame frame;
            while (!TryTakeFrame(out frame))
            {
                if (!await FillAsync(ct)) throw new IOException($"the server closed the connection while waiting for msgid {answer}");
            }

            if (frame.MsgId == answer && frame.Errno == 0) return frame;
            if (frame.MsgId == answer || frame.MsgId == MsgId.Error)
            {
                throw new InvalidOperationException($"{answer} failed: errno {frame.Errno} {frame.ErrMsg}");
            }
        }
    }

    private bool TryTakeFrame(out ServerFrame frame)
    {
        if (Seed)
        {
            var found = SeedFrames.TryCut(_in.AsSpan(_start, _end - _start), out var offset, out var length);
            frame = found ? ServerFrame.Parse(_in.AsSpan(_start + offset, length)) : default;
            _start += found ? offset + length : 0;
            return found;
        }

        while (true)
        {
            var pending = _in.AsSpan(_start, _end - _start);
            var newline = pending.IndexOf((byte)'\n');
            if (newline < 0)
            {
                frame = default;
                return false;
            }

            _start += newline + 1;
            if (newline > 0)
            {
                frame = ServerFrame.Parse(pending[..newline]);
                return true;
            }
        }
    }

    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _in.Length)
        {
            var buffer = _start == 0 ? new byte[_in.Length * 2] : _in;
            _in.AsSpan(_start, _end - _start).CopyTo(buffer);
            (_in, _end, _start) = (buffer, _end - _start, 0);
        }

        var read = await _stream.ReadAsync(_in.AsMemory(_end), ct);
        _end += read;
        return read > 0;
    }
}
