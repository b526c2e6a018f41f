using OpenTelemetry.Exporter;

namespace Chat.Server.Telemetry;

/// <summary>
/// Whether, and where, metrics, traces and logs go over OTLP. The standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> wins (the
/// exporter then reads it and its companions, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>_HEADERS</c>, itself);
/// otherwise <c>Chat:Telemetry:OtlpEndpoint</c> with <c>Chat:Telemetry:OtlpProtocol</c>. Neither: nothing is exported.
/// </summary>
public sealed class TelemetryExport(IConfiguration configuration, TelemetryOptions telemetry)
{
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private readonly bool _standard = !string.IsNullOrWhiteSpace(configuration[EndpointVariable]);

    public bool Exporting => _standard || telemetry.OtlpEndpoint is not null;

    /// <summary>Points one signal's exporter at <c>Chat:Telemetry:OtlpEndpoint</c>, unless the standard variables configure it.</summary>
    public void Configure(OtlpExporterOptions exporter, string signalPath)
    {
        if (_standard || telemetry.OtlpEndpoint is not { } endpoint)
        {
            return;
        }

        // Over HTTP the exporter posts to the endpoint as given, so the signal's path is added here.
        exporter.Protocol = telemetry.OtlpProtocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        exporter.Endpoint = exporter.Protocol == OtlpExportProtocol.HttpProtobuf ? new Uri(endpoint, signalPath) : endpoint;
    }
}
