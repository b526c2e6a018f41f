using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Admin;

/// <summary>
/// Webhooks lose nothing when the delivering replica dies: two replica processes on MariaDB and Redis; events are
/// committed through both while the receiver refuses them (so every one lies between commit and delivery), then the
/// replica holding the delivery lease is SIGKILLed. The other takes the lease once it lapses and delivers every event.
/// </summary>
public sealed class WebhookFailoverTests
{
    [Fact]
    public async Task A_replica_killed_between_commit_and_delivery_loses_no_event()
    {
        await using var receiver = await WebhookReceiver.StartAsync(WebhookTests.Secret);
        receiver.Status = 503;
        var database = await TestDatabase.CreateAsync("mysql", "hookkill");
        await using var redis = await RedisServer.StartNewAsync();
        var settings = new Dictionary<string, string>
        {
            ["Chat:PresenceTtl"] = "00:00:03",
            ["Chat:Webhooks:Url"] = receiver.Url,
            ["Chat:Webhooks:Secret"] = WebhookTests.Secret,
            ["Chat:Webhooks:PollInterval"] = "00:00:00.100",
            ["Chat:Webhooks:FirstBackoff"] = "00:00:00.200",
            ["Chat:Webhooks:MaxBackoff"] = "00:00:00.500",
            ["Chat:Webhooks:MaxAttempts"] = "1000",
            ["Chat:Webhooks:Timeout"] = "00:00:01",
            ["Chat:Webhooks:Lease"] = "00:00:03",
        };
        var doomed = await ReplicaProcess.StartAsync(database, redis.ConnectionString, new Dictionary<string, string>(settings) { ["Chat:ReplicaId"] = "doomed" });
        try
        {
            await Wait.UntilAsync(
                async () => await database.ScalarAsync("SELECT COUNT(*) FROM leases WHERE name = 'webhooks' AND holder LIKE 'doomed/%'") == 1,
                TimeSpan.FromSeconds(30), "the first replica delivering");
            await using var survivor = await ReplicaProcess.StartAsync(database, redis.ConnectionString, new Dictionary<string, string>(settings) { ["Chat:ReplicaId"] = "survivor" });

            // Through both replicas: a user who stays, five who registered and went (offline), a message to each of them.
            await using var alice = await TestClient.LoggedInAsync(doomed.ChatPort, TestClient.Unique("alice"), v: 2);
            var offline = new List<int>();
            for (var i = 0; i < 5; i++)
            {
                offline.Add(await Devices.RegisterAsync(i % 2 == 0 ? doomed.ChatPort : survivor.ChatPort, TestClient.Unique("off")));
            }

            await using var bob = await TestClient.LoggedInAsync(survivor.ChatPort, TestClient.Unique("bob"), v: 2);
            foreach (var (user, i) in offline.Select((u, i) => (u, i)))
            {
                var sender = i % 2 == 0 ? alice : bob;
                await WebhookTests.AckAsync(sender, new { msgid = 6, toid = user, msg = $"for {user}", cid = $"m{i}" });
            }

            // Every event is committed, and has been tried (and refused) by the replica about to die.
            const int events = 2 + 5 + 5;
            await Wait.UntilAsync(
                async () => await database.ScalarAsync("SELECT COUNT(*) FROM webhook_outbox WHERE attempts >= 1") == events,
                TimeSpan.FromSeconds(30), "every event committed and tried");
            Assert.Equal(events, await database.ScalarAsync("SELECT COUNT(*) FROM webhook_outbox"));

            await doomed.KillHardAsync(); // gone before the receiver says yes: only the survivor can be told 200
            receiver.Status = 200;

            var taken = await WebhookTests.AllTakenAsync(receiver, database, events, seconds: 45);
            Assert.All(taken, d => Assert.True(d.SignatureValid));
            Assert.Equal(events, taken.Select(d => d.Id).Distinct().Count());
            Assert.Equal(
                new[] { alice.Id, bob.Id }.Concat(offline).Order(),
                taken.Where(d => d.Type == "user.registered").Select(d => (int)d.Body["user"]!).Order());
            Assert.Equal(offline, taken.Where(d => d.Type == "message.offline").Select(d => (int)d.Body["user"]!).Order());
            Assert.All(taken.Where(d => d.Type == "message.offline"), d => Assert.Equal($"for {(int)d.Body["user"]!}", (string)d.Body["msg"]!));
            Assert.Equal(1, await database.ScalarAsync("SELECT COUNT(*) FROM leases WHERE name = 'webhooks' AND holder LIKE 'survivor/%'"));
        }
        finally
        {
            await doomed.DisposeAsync();
        }
    }
}
