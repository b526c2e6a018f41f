namespace Chat.Server.Transport;

public static class TransportExtensions
{
    /// <summary>The chat port's connections: their limits, the one registry of them, and the drain at shutdown.</summary>
    public static IServiceCollection AddChatTransport(this IServiceCollection services)
    {
        services.AddChatOptions<ConnectionOptions>();
        services.AddSingleton<ConnectionRegistry>();
        // One handler for both ports: the chat port's connections and /ws.
        services.AddSingleton<ChatConnectionHandler>();
        services.AddSingleton<ConnectionDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<ConnectionDrain>());
        return services;
    }
}
