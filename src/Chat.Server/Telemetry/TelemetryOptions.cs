using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Chat.Server.Telemetry;

/// <summary>The <c>Chat:Telemetry</c> section: where metrics and traces go. Without an endpoint nothing is exported.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Chat:Telemetry";

    /// <summary>OTLP collector, e.g. <c>http://127.0.0.1:4317</c> (gRPC) or <c>http://127.0.0.1:4318</c> (HTTP).</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary><c>grpc</c> or <c>http/protobuf</c>.</summary>
    [RegularExpression("^(grpc|http/protobuf)$")]
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>The <c>service.name</c> resource attribute; the replica id is <c>service.instance.id</c>.</summary>
    [Required]
    public string ServiceName { get; set; } = "chat";

    /// <summary>How often metrics are pushed to the collector.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MetricExportInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Share of traces recorded and exported (0 to 1), decided at the root span.</summary>
    [Range(0.0, 1.0)]
    public double TraceSampleRatio { get; set; } = 1.0;

    /// <summary>
    /// The section, bound and validated now, by the rules <c>ValidateOnStart</c> checks later: the exporters are built
    /// from it while services are registered, before anything starts. A bad value fails here, as it would at start.
    /// </summary>
    /// <exception cref="OptionsValidationException">A value breaks its rule.</exception>
    public static TelemetryOptions Read(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<TelemetryOptions>() ?? new();
        var result = new DataAnnotationValidateOptions<TelemetryOptions>(Options.DefaultName).Validate(Options.DefaultName, options);
        return result.Failed ? throw new OptionsValidationException(Options.DefaultName, typeof(TelemetryOptions), result.Failures) : options;
    }
}
