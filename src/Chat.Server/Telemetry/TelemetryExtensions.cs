namespace Chat.Server.Telemetry;

public static class TelemetryExtensions
{
    /// <summary>The instruments, and their OTLP export when <c>Chat:Telemetry:OtlpEndpoint</c> is set.</summary>
    public static IServiceCollection AddChatTelemetry(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<ChatMetrics>();
        services.AddOptions<TelemetryOptions>()
            .BindConfiguration(TelemetryOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<TelemetryExport>();
        services.AddHostedService(sp => sp.GetRequiredService<TelemetryExport>());
        return services;
    }
}
