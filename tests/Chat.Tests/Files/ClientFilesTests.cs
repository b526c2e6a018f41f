using System.Globalization;
using Chat.Tests.Client;
using Chat.Tests.Integration;

namespace Chat.Tests.Files;

/// <summary>The console client's file and people commands against the cluster, through nginx (TCP and http).</summary>
public sealed class ClientFilesTests(FilesClusterFixture cluster) : IClassFixture<FilesClusterFixture>
{
    [Fact]
    public async Task Send_file_reaches_a_friend_who_gets_it_and_find_and_block_answer()
    {
        var environment = new Dictionary<string, string> { ["CHAT_CLIENT_HTTP"] = $"http://127.0.0.1:{cluster.Nginx.HttpPort}/" };
        await using var alice = ClientProcess.Start(cluster.Nginx.Port, environment);
        await using var bob = ClientProcess.Start(cluster.Nginx.Port, environment);
        var (aliceId, aliceName) = await ClientTests.RegisterAsync(alice);
        var (bobId, bobName) = await ClientTests.RegisterAsync(bob);
        await ClientTests.LogInAsync(alice, aliceId, aliceName);
        await ClientTests.LogInAsync(bob, bobId, bobName);

        var source = Path.Combine(Path.GetTempPath(), $"chat-client-{Guid.NewGuid():N}.bin");
        var target = source + ".got";
        var content = new byte[300_000];
        new Random(7).NextBytes(content);
        await File.WriteAllBytesAsync(source, content);
        try
        {
            await alice.SendAsync($"send-file:{bobId}:{source}:for you");
            await alice.ExpectStartingAsync("sent (seq ");
            var line = await bob.ExpectAsync(l => l.Contains("said: for you [file: ", StringComparison.Ordinal), "the file message");
            var fileId = line[(line.IndexOf("get-file:", StringComparison.Ordinal) + "get-file:".Length)..].TrimEnd(']');

            await bob.SendAsync($"get-file:{fileId}:{target}");
            await bob.ExpectAsync($"saved {target}");
            Assert.Equal(content, await File.ReadAllBytesAsync(target));

            await bob.SendAsync($"find:{aliceName[..10]}");
            await bob.ExpectStartingAsync("found ");
            await bob.ExpectStartingAsync($"    {aliceId.ToString(CultureInfo.InvariantCulture)} {aliceName}");

            await alice.SendAsync($"block:{bobId}");
            await alice.ExpectAsync($"user {bobId} blocked");
        }
        finally
        {
            File.Delete(source);
            File.Delete(target);
        }
    }
}
