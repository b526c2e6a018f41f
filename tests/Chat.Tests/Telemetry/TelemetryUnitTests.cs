using System.Diagnostics.Metrics;
using System.Text;
using Chat.Protocol;
using Chat.Server.Telemetry;
using Chat.Server.Hosting;
using Chat.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Telemetry;

[Trait("Kind", "Unit")]
public sealed class TelemetryUnitTests
{
    [Theory]
    [InlineData("Chat:Telemetry:TraceSampleRatio", "2")]
    [InlineData("Chat:Telemetry:OtlpProtocol", "udp")]
    [InlineData("Chat:Telemetry:MetricExportInterval", "00:00:00")]
    public void The_exporters_are_never_built_from_a_value_the_options_refuse(string key, string value)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chat:Telemetry:OtlpEndpoint"] = "http://127.0.0.1:4318",
            [key] = value,
        });

        var refused = Assert.Throws<OptionsValidationException>(() => builder.AddServiceDefaults());
        Assert.Equal(typeof(TelemetryOptions), refused.OptionsType);
    }

    [Fact]
    public void The_rate_window_averages_the_last_ten_seconds()
    {
        var time = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_000));
        var rate = new RateWindow(time);
        for (var i = 0; i < 30; i++)
        {
            rate.Add();
        }

        Assert.Equal(3.0, rate.PerSecond());
        time.Advance(TimeSpan.FromSeconds(9));
        rate.Add();
        Assert.Equal(3.1, rate.PerSecond(), 3);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0.1, rate.PerSecond(), 3);
        time.Advance(TimeSpan.FromSeconds(10));
        rate.Add();
        Assert.Equal(0.1, rate.PerSecond(), 3);
    }

    [Theory]
    [InlineData("{\"msgid\":6,\"id\":1}\n", 6)]
    [InlineData("{\"msgid\":12,\"errno\":4}\n", 12)]
    [InlineData("{\"id\":6}\n", null)]
    [InlineData("{\"msgid\":}\n", null)]
    public void A_sent_frame_is_counted_by_its_leading_msgid(string frame, int? msgId) =>
        Assert.Equal(msgId, ChatMetrics.LeadingMsgId(Encoding.UTF8.GetBytes(frame)));

    [Fact]
    public void Recording_allocates_nothing_with_or_without_a_listener()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var metrics = new ChatMetrics(factory, TimeProvider.System);
        var frame = Encoding.UTF8.GetBytes("{\"msgid\":6,\"id\":1}\n");

        Assert.Equal(0, AllocatedBy(() => Record(metrics, frame)));

        long seen = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory)) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => seen++);
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => seen++);
        listener.Start();

        Assert.Equal(0, AllocatedBy(() => Record(metrics, frame)));
        Assert.True(seen > 0);
    }

    private static void Record(ChatMetrics metrics, byte[] frame)
    {
        metrics.FrameReceived((int)MsgId.OneChat);
        metrics.FrameSent(frame);
        metrics.Error(ErrorCode.BadRequest);
        metrics.Login(LoginOutcome.Ok);
        metrics.MessageStored();
        metrics.Published(TimeSpan.FromMilliseconds(1));
        metrics.DeliveredFromBus(1.5);
        metrics.PresenceRefreshed(ok: true);
    }

    private static long AllocatedBy(Action action)
    {
        action();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            action();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
