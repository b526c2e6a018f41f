using Microsoft.Extensions.Options;

namespace Chat.Server;

public static class OptionsRegistration
{
    /// <summary>Options of one area, bound from the <c>Chat</c> section and validated at start.</summary>
    public static OptionsBuilder<TOptions> AddChatOptions<TOptions>(this IServiceCollection services) where TOptions : class =>
        services.AddOptions<TOptions>()
            .BindConfiguration(ChatServerOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
}
