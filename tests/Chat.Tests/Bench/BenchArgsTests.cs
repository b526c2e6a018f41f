using System.Net;
using Chat.Bench;

namespace Chat.Tests.Bench;

[Trait("Kind", "Unit")]
public sealed class BenchArgsTests
{
    [Fact]
    public void Reads_values_flags_and_defaults()
    {
        var args = BenchArgs.Parse(["--pairs", "8", "--same-endpoint", "--seconds", "1.5", "--json"]);

        Assert.Equal(8, args.Number("pairs", 1));
        Assert.Equal(1.5, args.Real("seconds", 10));
        Assert.Equal(2, args.Real("warmup", 2));
        Assert.True(args.Flag("same-endpoint"));
        Assert.True(args.Flag("json"));
        Assert.False(args.Flag("quiet"));
    }

    [Fact]
    public void Endpoints_are_a_comma_separated_list_in_order()
    {
        var args = BenchArgs.Parse(["--endpoints", "127.0.0.1:6000, 127.0.0.2:6002,[::1]:8000"]);

        Assert.Equal(
            [new IPEndPoint(IPAddress.Loopback, 6000), new IPEndPoint(IPAddress.Parse("127.0.0.2"), 6002), new IPEndPoint(IPAddress.IPv6Loopback, 8000)],
            args.Endpoints("endpoints", "127.0.0.1:1"));
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 1)], BenchArgs.Parse([]).Endpoints("endpoints", "127.0.0.1:1"));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost:6000")]
    [InlineData("127.0.0.1:0")]
    public void An_endpoint_without_an_address_and_port_is_refused(string text) =>
        Assert.Throws<ArgumentException>(() => BenchArgs.Parse(["--endpoints", text]).Endpoints("endpoints", ""));

    [Fact]
    public void A_bare_value_is_refused() => Assert.Throws<ArgumentException>(() => BenchArgs.Parse(["pairs", "8"]));

    [Fact]
    public void Server_pids_are_a_list_of_numbers() =>
        Assert.Equal([12, 345], BenchArgs.Parse(["--server-pid", "12,345"]).Numbers("server-pid"));

    [Fact]
    public void Connections_go_round_robin_and_spread_over_loopback_sources_only_when_many()
    {
        var options = LoadOptions.From(BenchArgs.Parse(["--endpoints", "127.0.0.1:6000,127.0.0.1:6002"]));

        Assert.Equal(6000, options.EndpointFor(0).Port);
        Assert.Equal(6002, options.EndpointFor(1).Port);
        Assert.Equal(6000, options.EndpointFor(2).Port);
        Assert.Null(options.SourceFor(5, 1000));
        Assert.Equal(IPAddress.Parse("127.0.0.2"), options.SourceFor(0, 50_000));
        Assert.Equal(IPAddress.Parse("127.0.0.4"), options.SourceFor(2, 50_000));
        Assert.Equal(IPAddress.Parse("127.0.0.2"), options.SourceFor(3, 50_000));
        Assert.Equal(IPAddress.Parse("127.0.0.3"), (options with { SourceAddresses = 2 }).SourceFor(1, 10));
    }
}
