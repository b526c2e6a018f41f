namespace Chat.Server.Transport;

public static class TransportExtensions
{
    /// <summary>The chat port's connections: their limits, the one registry of them, and the drain at shutdown.</summary>
    public static IServiceCollection AddChatTransport(this IServiceCollection services)
    {
        services.AddChatOptions<ConnectionOptions>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<ConnectionDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<ConnectionDrain>());
        return services;
    }
}
