using Chat.Domain;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Chat.Server.Sessions;

public static class SessionExtensions
{
    /// <summary>What logging in needs: its options, the password hasher they tune, the workers that run it, and the attempt limits.</summary>
    public static IServiceCollection AddChatSessions(this IServiceCollection services)
    {
        services.AddChatOptions<LoginOptions>().BindConfiguration(LoginOptions.Section);
        services.AddSingleton<IPasswordHasher<UserAccount>, PasswordHasher<UserAccount>>();
        services.AddOptions<PasswordHasherOptions>()
            .Configure<IOptions<LoginOptions>>((hasher, login) => hasher.IterationCount = login.Value.PasswordIterations);
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<PasswordWork>();
        services.AddSingleton<LoginGate>();
        services.AddChatOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section);
        services.AddSingleton(GapFill.FromStore);
        return services;
    }
}
