namespace Chat.Server.Telemetry;

public static class TelemetryExtensions
{
    /// <summary>The server's instruments; who reads them is set up in <c>ServiceDefaults</c>.</summary>
    public static IServiceCollection AddChatTelemetry(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<ChatMetrics>();
        return services;
    }
}
