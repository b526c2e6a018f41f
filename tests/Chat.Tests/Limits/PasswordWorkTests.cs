using System.Diagnostics;
using Chat.Protocol;
using Chat.Server.Sessions;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Limits;

/// <summary>
/// Password checks run on one worker here, each made slow (400,000 PBKDF2 iterations): a login whose client left is
/// never hashed, and a login beyond the queue is refused at once instead of waiting. Alone: the worker runs at a lower
/// priority than everything else, so beside the parallel tests one check takes what CPU they leave.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class PasswordWorkTests
{
    private static async Task<Replica> StartAsync(string name, int queue)
    {
        var database = await (await PostgresServer.StartedAsync()).CreateDatabaseAsync(name);
        return await Replica.StartAsync(database, new Dictionary<string, string?>
        {
            ["Chat:PasswordIterations"] = "400000",
            ["Chat:PasswordWorkers"] = "1",
            ["Chat:PasswordQueue"] = queue.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    [Fact]
    public async Task Logins_whose_clients_left_are_dropped_unhashed_so_the_next_login_is_answered_after_one_check()
    {
        await using var replica = await StartAsync("pw_gone", queue: 64);
        var work = replica.Services.GetRequiredService<PasswordWork>();
        var name = TestClient.Unique("alice");
        await using var alice = await replica.ConnectAsync();
        var registering = Stopwatch.StartNew();
        var id = await alice.RegisterAsync(name, "pw-" + name);
        var oneCheck = registering.Elapsed;

        // One wrong password holds the worker; ten clients send LOGIN behind it and leave.
        await using var holder = await replica.ConnectAsync();
        await holder.SendAsync(new LoginRequest(id, "wrong"));
        const int leavers = 10;
        for (var i = 0; i < leavers; i++)
        {
            await using var leaver = await replica.ConnectAsync();
            await leaver.SendAsync(new LoginRequest(id, "pw-" + name));
        }

        await Wait.UntilAsync(() => work.Queued + work.Dropped >= leavers, TimeSpan.FromSeconds(15), "the leavers' logins queued behind the holder");
        var started = Stopwatch.StartNew();
        var ack = await alice.LoginAsync(id, "pw-" + name);
        var waited = started.Elapsed;

        Assert.Equal(0, (int)ack["errno"]!);
        Assert.Equal(1, (int)(await holder.ReceiveAsync(2))["errno"]!);
        Assert.Equal(leavers, work.Dropped);
        Assert.True(waited < oneCheck * 4, $"alice waited {waited.TotalMilliseconds:0} ms; one check takes about {oneCheck.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Logins_beyond_the_queue_get_errno_10_at_once()
    {
        await using var replica = await StartAsync("pw_full", queue: 2);
        var name = TestClient.Unique("bob");
        await using var setup = await replica.ConnectAsync();
        var id = await setup.RegisterAsync(name, "pw-" + name);

        var clients = new List<TestClient>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                clients.Add(await replica.ConnectAsync());
            }

            // All at once: sent one by one after each connect, the worker could finish a check between two of them.
            await Task.WhenAll(clients.Select(c => c.SendAsync(new LoginRequest(id, "wrong"))));

            var answers = await Task.WhenAll(clients.Select(async c => (int)(await c.ReceiveAsync(2))["errno"]!));
            // One on the worker, two queued: the rest were refused without waiting for any check.
            Assert.True(answers.Count(e => e == 10) >= 4, string.Join(",", answers));
            Assert.All(answers, e => Assert.True(e is 1 or 10, $"errno {e}"));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }
}
