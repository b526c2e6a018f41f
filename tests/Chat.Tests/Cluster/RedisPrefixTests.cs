using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Cluster;

/// <summary>Two deployments, each with its own store, share one Redis: <c>Chat:RedisPrefix</c> keeps their users apart.</summary>
public sealed class RedisPrefixTests
{
    [Theory]
    [InlineData("east:", "west:", 0)]
    [InlineData("chat:", "chat:", 2)] // one prefix: the second deployment's user 1 is "online already" as the first's
    public async Task The_same_user_id_in_two_deployments_on_one_redis_logs_in_on_each_only_apart(string first, string second, int secondErrno)
    {
        await using var redis = await RedisServer.StartNewAsync();
        var mariadb = await MariaDbServer.StartedAsync();
        await using var east = await Replica.StartAsync(await mariadb.CreateDatabaseAsync("prefix_east"), Settings(redis, first));
        await using var west = await Replica.StartAsync(await mariadb.CreateDatabaseAsync("prefix_west"), Settings(redis, second));

        await using var alice = await TestClient.ConnectAsync(east.ChatPort);
        await using var bob = await TestClient.ConnectAsync(west.ChatPort);
        var aliceId = await alice.RegisterAsync("alice", "pw-alice");
        var bobId = await bob.RegisterAsync("bob", "pw-bob");
        Assert.Equal(aliceId, bobId); // each store's first user

        Assert.Equal(0, (int)(await alice.LoginAsync(aliceId, "pw-alice"))["errno"]!);
        Assert.Equal(secondErrno, (int)(await bob.LoginAsync(bobId, "pw-bob"))["errno"]!);
    }

    [Fact]
    public async Task A_prefix_with_a_hash_tag_is_refused_at_start_with_the_reason()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await Replica.StartAsync(
            await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("prefix_tag"), Settings(redis, "{chat}:")));

        Assert.Contains("Chat:RedisPrefix", error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Settings(RedisServer redis, string prefix) =>
        new() { ["ConnectionStrings:Redis"] = redis.ConnectionString, ["Chat:RedisPrefix"] = prefix };
}
