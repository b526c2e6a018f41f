using Chat.Persistence;
using Chat.Server.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Chat.Server.Telemetry;

/// <summary>
/// Exports the <c>Chat.Server</c> and <c>Chat.Store</c> meters and the <c>Chat.Server</c> spans over OTLP while the
/// host runs, when <see cref="TelemetryOptions.OtlpEndpoint"/> is set. Without it no provider, listener or exporter
/// is built, and instruments and spans cost nothing.
/// </summary>
public sealed class TelemetryExport(IOptions<TelemetryOptions> telemetry, IOptions<ChatServerOptions> chat) : IHostedService, IDisposable
{
    private MeterProvider? _meters;
    private TracerProvider? _tracer;

    public bool Exporting => _meters is not null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = telemetry.Value;
        if (o.OtlpEndpoint is not { } endpoint)
        {
            return Task.CompletedTask;
        }

        var protocol = o.OtlpProtocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        var resource = ResourceBuilder.CreateDefault().AddService(o.ServiceName, serviceInstanceId: chat.Value.ReplicaId);
        _meters = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(ChatMetrics.MeterName, StoreMetrics.MeterName)
            .AddOtlpExporter((exporter, reader) =>
            {
                Configure(exporter, endpoint, protocol, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)o.MetricExportInterval.TotalMilliseconds;
            })
            .Build();
        _tracer = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(ChatTelemetry.SourceName)
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(o.TraceSampleRatio)))
            .AddOtlpExporter(exporter => Configure(exporter, endpoint, protocol, "v1/traces"))
            .Build();
        return Task.CompletedTask;
    }

    /// <summary>Flushes what is buffered and stops exporting.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _tracer?.Dispose();
        _tracer = null;
        _meters?.Dispose();
        _meters = null;
    }

    // Over HTTP the exporter posts to the endpoint as given, so the signal's path is added here.
    private static void Configure(OtlpExporterOptions exporter, Uri endpoint, OtlpExportProtocol protocol, string signalPath)
    {
        exporter.Protocol = protocol;
        exporter.Endpoint = protocol == OtlpExportProtocol.HttpProtobuf ? new Uri(endpoint, signalPath) : endpoint;
    }
}
