using System.Globalization;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Client;

/// <summary>
/// The JavaScript client (clients/js) under Node's own test runner, against a real replica started here: its tests
/// log in, chat, lose the link and resume, resend by cid, use groups and see refusals. Node 18+ and the client's dev
/// dependency (<c>ws</c>, installed by scripts/test.sh with <c>npm ci</c>) are needed; without them this fails, never skips.
/// </summary>
public sealed class JsClientTests
{
    [Fact]
    public async Task The_javascript_clients_own_tests_pass_against_a_replica()
    {
        var client = Path.Combine(Repository.Root, "clients", "js");
        Assert.True(
            File.Exists(Path.Combine(client, "node_modules", "ws", "package.json")),
            $"the JS client's dev dependencies are missing: run `npm ci` in {client} (scripts/test.sh does)");
        var node = Executable.Require("node", "apt-get install nodejs");

        await using var replica = await Replica.StartAsync(TestDatabase.Sqlite("jsclient"));
        var url = string.Create(CultureInfo.InvariantCulture, $"ws://127.0.0.1:{replica.HttpPort}/ws");
        var run = await ChildProcess.RunAsync("env", [$"CHAT_WS_URL={url}", node, "--test", "test/"], TimeSpan.FromMinutes(2), client);

        Assert.True(run.ExitCode == 0, $"node --test failed ({run.ExitCode}):\n{run.Output}");
        Assert.Contains("# fail 0", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("# pass 0", run.Output, StringComparison.Ordinal);
    }
}
