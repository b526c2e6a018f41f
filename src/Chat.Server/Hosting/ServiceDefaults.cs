using Chat.Server.Telemetry;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Chat.Server.Hosting;

/// <summary>
/// What every replica has whatever it serves, as eShop's <c>AddServiceDefaults()</c>: OpenTelemetry and health checks.
/// It names no meter, source or check of the chat's own: each area adds its instruments to the providers
/// (<c>ConfigureOpenTelemetryMeterProvider</c>: the chat's in <c>AddChatTelemetry</c>, the store's and its drivers' in
/// <see cref="ChatServerExtensions"/>, Redis's in <c>AddChatHub</c>) and registers its health checks with
/// <see cref="HealthTags.Ready"/>.
/// </summary>
public static class ServiceDefaults
{
    /// <summary>A check that has not answered by then counts as failed.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        return builder;
    }

    /// <summary>
    /// Metrics always (runtime, ASP.NET Core, and whatever meters the areas add), scraped at <c>/metrics</c>.
    /// Traces and logs only with an OTLP endpoint (<see cref="TelemetryExport"/>): without one no tracer or log
    /// exporter exists, so spans cost nothing on the chat path. The exporters are built from the options as validated
    /// (<see cref="TelemetryOptions.Read"/>), not as found in the configuration.
    /// </summary>
    public static IHostApplicationBuilder ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>()
            .BindConfiguration(TelemetryOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var telemetry = TelemetryOptions.Read(builder.Configuration);
        var export = new TelemetryExport(builder.Configuration, telemetry);
        builder.Services.AddSingleton(export);

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddDetector(sp => new ReplicaResource(
                sp.GetRequiredService<IOptions<TelemetryOptions>>().Value.ServiceName,
                sp.GetRequiredService<IOptions<ChatServerOptions>>().Value.ReplicaId)))
            .WithMetrics(metrics => metrics
                .AddRuntimeInstrumentation()
                .AddAspNetCoreInstrumentation()
                .AddPrometheusExporter());
        if (!export.Exporting)
        {
            return builder;
        }

        otel.WithMetrics(metrics => metrics.AddOtlpExporter((exporter, reader) =>
            {
                export.Configure(exporter, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)telemetry.MetricExportInterval.TotalMilliseconds;
            }))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(telemetry.TraceSampleRatio)))
                .AddOtlpExporter(exporter => export.Configure(exporter, "v1/traces")))
            .WithLogging(logging => logging.AddOtlpExporter(exporter => export.Configure(exporter, "v1/logs")));
        return builder;
    }

    /// <summary>The health check service with one live check (the process answers) and a deadline for every check.</summary>
    public static IHostApplicationBuilder AddDefaultHealthChecks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [HealthTags.Live]);
        builder.Services.PostConfigure<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in options.Registrations.Where(r => r.Timeout == Timeout.InfiniteTimeSpan))
            {
                registration.Timeout = CheckTimeout;
            }
        });
        return builder;
    }

    /// <summary><c>/metrics</c> (Prometheus text), <c>/healthz</c> (live checks) and <c>/readyz</c> (ready checks) on the HTTP port.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint();
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(HealthTags.Live),
            ResponseWriter = HealthResponses.WriteLiveAsync,
        });
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(HealthTags.Ready),
            ResponseWriter = HealthResponses.WriteReadyAsync,
        });
        return app;
    }

    /// <summary><c>service.name</c> and this replica's id as <c>service.instance.id</c>, from the validated options.</summary>
    private sealed class ReplicaResource(string serviceName, string replicaId) : IResourceDetector
    {
        public Resource Detect() => ResourceBuilder.CreateEmpty().AddService(serviceName, serviceInstanceId: replicaId).Build();
    }
}
