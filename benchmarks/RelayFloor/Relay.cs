using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Threading.Channels;
using Chat.Protocol;
using Microsoft.AspNetCore.Connections;
using StackExchange.Redis;

namespace RelayFloor;

/// <summary>Who is here, and the way to everyone else: a Redis channel per user, as the replica's hub has.</summary>
public sealed class Users(ConnectionMultiplexer? redis, int firstId)
{
    private readonly ConcurrentDictionary<int, Link> _here = new();
    private readonly ConcurrentDictionary<int, string> _names = new();
    private int _last = firstId;

    public int Register(string name)
    {
        var id = Interlocked.Increment(ref _last);
        _names[id] = name;
        return id;
    }

    public async Task<string> LogInAsync(int id, Link link)
    {
        _here[id] = link;
        if (redis is not null)
        {
            var queue = await redis.GetSubscriber().SubscribeAsync(Channel(id));
            _ = Task.Run(async () =>
            {
                await foreach (var message in queue)
                {
                    link.Send((byte[])message.Message!);
                }
            });
        }

        return _names.GetValueOrDefault(id, "user");
    }

    public void Send(int to, byte[] frame)
    {
        if (_here.TryGetValue(to, out var link))
        {
            link.Send(frame);
        }
        else
        {
            redis?.GetSubscriber().Publish(Channel(to), frame, CommandFlags.FireAndForget);
        }
    }

    private static RedisChannel Channel(int id) => RedisChannel.Literal("floor:user:" + id.ToString(CultureInfo.InvariantCulture));
}

/// <summary>One connection's outgoing frames: queued by anyone, written and flushed in batches by one loop.</summary>
public sealed class Link(PipeWriter output)
{
    private readonly Channel<byte[]> _frames = System.Threading.Channels.Channel.CreateUnbounded<byte[]>(new() { SingleReader = true });

    public void Send(byte[] frame) => _frames.Writer.TryWrite(frame);

    public void Complete() => _frames.Writer.TryComplete();

    public async Task WriteAsync()
    {
        while (await _frames.Reader.WaitToReadAsync())
        {
            while (_frames.Reader.TryRead(out var frame))
            {
                output.Write(frame);
            }

            if ((await output.FlushAsync()).IsCompleted)
            {
                return;
            }
        }
    }
}

/// <summary>REG, LOGIN and ONE_CHAT: the frames a ping-pong needs, each answered as the replica answers it.</summary>
public sealed class Relay(Users users) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var link = new Link(connection.Transport.Output);
        var writing = link.WriteAsync();
        var input = connection.Transport.Input;
        (int Id, string Name) me = default;
        try
        {
            while (true)
            {
                var read = await input.ReadAsync();
                var buffer = read.Buffer;
                while (FrameReader.TryReadFrame(ref buffer, 1 << 20, out var frame) == FrameStatus.Frame)
                {
                    me = await HandleAsync(frame, link, me);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (ConnectionResetException)
        {
        }
        finally
        {
            link.Complete();
            await writing;
        }
    }

    private async ValueTask<(int Id, string Name)> HandleAsync(ReadOnlySequence<byte> frame, Link link, (int Id, string Name) me)
    {
        if (!RequestReader.TryParse(frame, out var request, out var error))
        {
            link.Send(ServerFrames.Reply(error));
            return me;
        }

        switch (request)
        {
            case RegisterRequest register:
                link.Send(ServerFrames.Reply(MsgId.Reg, register.Cid, new Registered(users.Register(register.Name ?? "user")))!);
                return me;
            case LoginRequest login:
                var name = await users.LogInAsync(login.Id, link);
                link.Send(ServerFrames.LoginOk(new LoginAck(login.Id, name, [], [], [], [], More: false), objects: login.Version >= 2, login.Cid));
                return (login.Id, name);
            case OneChatRequest chat:
                var now = DateTimeOffset.UtcNow;
                var time = chat.Time ?? now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
                users.Send(chat.ToId, ServerFrames.Chat(new ChatPush(false, me.Id, me.Name, chat.ToId, chat.Msg, time, 1, now.ToUnixTimeMilliseconds())));
                if (ServerFrames.Reply(MsgId.OneChat, chat.Cid, new MessageStored(1, now.ToUnixTimeMilliseconds())) is { } ack)
                {
                    link.Send(ack);
                }

                return me;
            default:
                link.Send(ServerFrames.Error(ErrorCode.Invalid, "the relay floor speaks REG, LOGIN and ONE_CHAT only", (int)request.MsgId));
                return me;
        }
    }
}
