using Chat.Server.Hub;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Cluster;

/// <summary>WebSocket users through nginx's http server, TCP users through its stream server, on two replicas.</summary>
public sealed class WebSocketClusterTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task A_WebSocket_user_and_a_TCP_user_on_different_replicas_chat_through_nginx()
    {
        await using var web = await TestClient.RegisterAndLogInAsync(await TestClient.ConnectWebSocketAsync(cluster.Nginx.HttpPort), TestClient.Unique("web"), v: 2);
        var webReplica = ReplicaOf(web.Id);
        // nginx balances by open connections: with one kept open, the next goes to the other replica.
        await using var first = await TestClient.LoggedInAsync(cluster.Nginx.Port, TestClient.Unique("tcp"), v: 2);
        await using var second = await TestClient.LoggedInAsync(cluster.Nginx.Port, TestClient.Unique("tcp"), v: 2);
        var tcp = ReplicaOf(first.Id) != webReplica ? first : second;
        Assert.NotEqual(webReplica, ReplicaOf(tcp.Id));

        var ack = await web.RequestAsync(new { msgid = 6, toid = tcp.Id, msg = "over WebSocket, across replicas", cid = 1 });
        var atTcp = await tcp.ReceiveAsync(6);
        await tcp.SendAsync(new { msgid = 6, toid = web.Id, msg = "over TCP, back" });
        var atWeb = await web.ReceiveAsync(6);

        Assert.Equal((11, 0, 1L), ((int)ack["msgid"]!, (int)ack["errno"]!, (long)ack["seq"]!));
        Assert.Equal((web.Id, web.Name, "over WebSocket, across replicas", 1L), ((int)atTcp["id"]!, (string)atTcp["name"]!, (string)atTcp["msg"]!, (long)atTcp["seq"]!));
        Assert.Equal((tcp.Id, "over TCP, back", 2L), ((int)atWeb["id"]!, (string)atWeb["msg"]!, (long)atWeb["seq"]!));
        await web.AssertNothingPendingAsync();
        await tcp.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task A_second_login_over_WebSocket_is_refused_while_the_user_is_online_over_TCP_on_the_other_replica()
    {
        var name = TestClient.Unique("erin");
        await using var overTcp = await TestClient.LoggedInAsync(cluster.A.ChatPort, name);
        await using var overWebSocket = await TestClient.ConnectWebSocketAsync(cluster.B.HttpPort);

        var refused = await overWebSocket.LoginAsync(overTcp.Id, "pw-" + name);

        Assert.Equal((2, 2), ((int)refused["msgid"]!, (int)refused["errno"]!));
    }

    private string ReplicaOf(int userId) =>
        cluster.A.Services.GetRequiredService<ChatHub>().Find(userId) is not null ? "A"
        : cluster.B.Services.GetRequiredService<ChatHub>().Find(userId) is not null ? "B"
        : throw new InvalidOperationException($"user {userId} is online on neither replica");
}
