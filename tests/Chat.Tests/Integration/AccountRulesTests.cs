using Chat.Tests.Infrastructure;

namespace Chat.Tests.Integration;

/// <summary>What a new account's password and a name may be, over real sockets (the rules one by one: Domain/ValidationTests).</summary>
public sealed class AccountRulesTests
{
    [Fact]
    public async Task A_new_password_shorter_than_the_rule_is_refused_while_an_older_account_with_one_still_logs_in()
    {
        var database = await (await PostgresServer.StartedAsync()).CreateDatabaseAsync("passwordrule");
        int oldId;
        await using (var before = await Replica.StartAsync(database, new Dictionary<string, string?> { ["Chat:Login:MinPasswordLength"] = "1" }))
        {
            await using var client = await before.ConnectAsync();
            oldId = await client.RegisterAsync(TestClient.Unique("old"), "a");
        }

        // The default rule (the test replicas lift it for tests written before it).
        await using var replica = await Replica.StartAsync(database, new Dictionary<string, string?> { ["Chat:Login:MinPasswordLength"] = "8" });
        await using var newcomer = await replica.ConnectAsync();

        var one = await newcomer.RequestAsync(new { msgid = 4, name = TestClient.Unique("new"), password = "a" });
        var seven = await newcomer.RequestAsync(new { msgid = 4, name = TestClient.Unique("new"), password = "1234567" });
        var eight = await newcomer.RequestAsync(new { msgid = 4, name = TestClient.Unique("new"), password = "12345678" });

        Assert.Equal((5, 1, "password must be at least 8 characters"), ((int)one["msgid"]!, (int)one["errno"]!, (string)one["errmsg"]!));
        Assert.Equal((1, "password must be at least 8 characters"), ((int)seven["errno"]!, (string)seven["errmsg"]!));
        Assert.Equal(0, (int)eight["errno"]!);
        await using var old = await replica.ConnectAsync();
        Assert.Equal(0, (int)(await old.LoginAsync(oldId, "a"))["errno"]!);
    }

    [Theory]
    [InlineData("\u202Eecila", "name must not contain invisible formatting characters (such as direction overrides)")]
    [InlineData("ali\u200Bce", "name must not contain invisible formatting characters (such as direction overrides)")]
    [InlineData("alice\u0007", "name must not contain control characters")]
    [InlineData(" alice", "name must not start or end with white space")]
    public async Task A_name_with_invisible_or_control_characters_or_edge_space_is_refused_at_REG_and_CREATE_GROUP(string name, string problem)
    {
        var database = await (await PostgresServer.StartedAsync()).CreateDatabaseAsync("namerules");
        await using var replica = await Replica.StartAsync(database);
        await using var client = await replica.ConnectAsync();

        var reg = await client.RequestAsync(new { msgid = 4, name, password = "long enough" });
        await TestClient.RegisterAndLogInAsync(client, TestClient.Unique("creator"));
        var group = await client.RequestAsync(new { msgid = 8, groupname = name, cid = "g" });

        Assert.Equal((5, 1, problem), ((int)reg["msgid"]!, (int)reg["errno"]!, (string)reg["errmsg"]!));
        Assert.Equal((11, 4, "group" + problem), ((int)group["msgid"]!, (int)group["errno"]!, (string)group["errmsg"]!));
    }
}
