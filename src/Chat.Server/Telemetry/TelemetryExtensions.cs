using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Chat.Server.Telemetry;

public static class TelemetryExtensions
{
    /// <summary>
    /// The server's instruments (<see cref="ChatMetrics"/>) and spans (<see cref="ChatTelemetry"/>), added to the
    /// providers <c>ServiceDefaults</c> sets up (the spans only when a tracer exists: with an OTLP endpoint).
    /// </summary>
    public static IServiceCollection AddChatTelemetry(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<ChatMetrics>();
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(ChatMetrics.MeterName));
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(ChatTelemetry.SourceName));
        return services;
    }
}
