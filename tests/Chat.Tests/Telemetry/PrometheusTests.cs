using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Telemetry;

/// <summary>
/// <c>GET /metrics</c> on each replica's HTTP port, as Prometheus scrapes it, after a chat from replica A to a user on B:
/// the chat and store meters and the runtime's metrics are there in Prometheus text.
/// </summary>
public sealed class PrometheusTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Metrics_show_the_chat_meters_and_the_runtime_in_prometheus_text()
    {
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"));
        await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "scraped", cid = "p1" });
        Assert.Equal(0, (int)(await alice.ReceiveAsync(11))["errno"]!);
        Assert.Equal("scraped", (string)(await bob.ReceiveAsync(6))["msg"]!);

        // Sender's side: connections, the stored message, the writer and its queue, the publish, the runtime, the
        // database client (a pool series: MySqlConnector and Npgsql 9 both publish it; Npgsql 10 adds operation durations).
        await ScrapeUntilAsync(
            cluster.A.HttpPort,
            "chat_connections",
            "chat_logins_total",
            "chat_messages_stored_total",
            "chat_store_commit_duration_milliseconds_bucket",
            "chat_store_batch_size_bucket",
            "chat_store_queue_depth",
            "chat_bus_publish_duration_milliseconds_bucket",
            "dotnet_gc_collections_total",
            "dotnet_process_cpu_time_seconds_total",
            "dotnet_process_memory_working_set_bytes",
            "db_client_connections_usage");

        // Receiver's side: the delivery from the bus and the frame written to bob.
        await ScrapeUntilAsync(cluster.B.HttpPort, "chat_bus_delivery_latency_milliseconds_bucket", "chat_frames_sent_total{msgid=\"6\"}");
    }

    [Fact]
    public async Task Metrics_are_text_in_the_prometheus_exposition_format()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string? mediaType = null;
        var body = "";

        // As ScrapeUntilAsync: a scrape may be the exporter's cached one from before the gauge was first read.
        await Wait.UntilAsync(
            async () =>
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{cluster.A.HttpPort}/metrics"));
                Assert.True(response.IsSuccessStatusCode);
                mediaType = response.Content.Headers.ContentType?.MediaType;
                body = await response.Content.ReadAsStringAsync();
                return body.Contains("# TYPE chat_connections gauge", StringComparison.Ordinal);
            },
            Deadline,
            "chat_connections on /metrics");

        Assert.Equal("text/plain", mediaType);
        Assert.Contains("# TYPE chat_connections gauge", body, StringComparison.Ordinal);
    }

    /// <summary>Scrapes until every series is there (the exporter caches a scrape for a moment); names the missing ones otherwise.</summary>
    private static async Task ScrapeUntilAsync(int httpPort, params string[] series)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var url = new Uri($"http://127.0.0.1:{httpPort}/metrics");
        var text = "";
        try
        {
            await Wait.UntilAsync(
                async () =>
                {
                    text = await http.GetStringAsync(url);
                    return series.All(s => Has(text, s));
                },
                Deadline,
                "the series on " + url);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} Missing: {string.Join(", ", series.Where(s => !Has(text, s)))}\n{text}", e);
        }
    }

    /// <summary>A sample of <paramref name="series"/>: a bare name, or <c>name{label="value"}</c> for a sample with that label among its labels.</summary>
    private static bool Has(string text, string series)
    {
        var brace = series.IndexOf('{', StringComparison.Ordinal);
        var name = brace < 0 ? series : series[..brace];
        var label = brace < 0 ? "" : series[(brace + 1)..^1];
        return text.Split('\n').Any(line =>
            line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is '{' or ' ' &&
            line.Contains(label, StringComparison.Ordinal));
    }
}
