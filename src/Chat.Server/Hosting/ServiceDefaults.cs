using Chat.Persistence;
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
/// Components add only their own parts: their instruments' meters are named here, their health checks they register
/// themselves with <see cref="HealthTags.Ready"/> (the database in <see cref="ChatServerExtensions"/>, Redis in the hub's).
/// </summary>
public static class ServiceDefaults
{
    /// <summary>A check that has not answered by then counts as failed.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);

    // The database clients publish their spans and instruments under their own names (no extra package needed).
    private static readonly string[] DatabaseClients = ["Npgsql", "MySqlConnector"];

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        return builder;
    }

    /// <summary>
    /// Metrics always (the chat and store meters, runtime, ASP.NET Core, database clients), scraped at <c>/metrics</c>.
    /// Traces and logs only with an OTLP endpoint (<see cref="TelemetryExport"/>): without one no tracer or log
    /// exporter exists, so spans cost nothing on the chat path.
    /// </summary>
    public static IHostApplicationBuilder ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>()
            .BindConfiguration(TelemetryOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var telemetry = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new();
        var export = new TelemetryExport(builder.Configuration, telemetry);
        builder.Services.AddSingleton(export);

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddDetector(sp => new ReplicaResource(
                sp.GetRequiredService<IOptions<TelemetryOptions>>().Value.ServiceName,
                sp.GetRequiredService<IOptions<ChatServerOptions>>().Value.ReplicaId)))
            .WithMetrics(metrics => metrics
                .AddMeter(ChatMetrics.MeterName, StoreMetrics.MeterName)
                .AddMeter(DatabaseClients)
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
                .AddSource(ChatTelemetry.SourceName)
                .AddSource(DatabaseClients)
                .AddAspNetCoreInstrumentation()
                .AddRedisInstrumentation()
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
