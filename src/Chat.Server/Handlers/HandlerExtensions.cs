using Chat.Protocol;
using Chat.Server.Transport;

namespace Chat.Server.Handlers;

public static class HandlerExtensions
{
    /// <summary>One handler per request type, keyed by its msgid, and the dispatcher that answers with them.</summary>
    public static IServiceCollection AddChatHandlers(this IServiceCollection services)
    {
        services.AddChatOptions<MessageOptions>();
        services.AddSingleton<LoginLifecycle>();
        services.AddSingleton<KnownUsers>();
        services.AddSingleton<MessageSender>();
        services.AddOptions<MessageLogOptions>().BindConfiguration(MessageLogOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ReplyQuotes>();
        services.AddScoped<MessageLog>();
        services.AddKeyedScoped<IRequestHandler, EditHandler>(MsgId.Edit);
        services.AddKeyedScoped<IRequestHandler, RecallHandler>(MsgId.Recall);
        services.AddKeyedScoped<IRequestHandler, ReactHandler>(MsgId.React);
        services.AddSingleton<Dispatcher>();
        services.AddSingleton<IConnectionApplication>(sp => sp.GetRequiredService<Dispatcher>());

        services.AddKeyedSingleton<IRequestHandler, PingHandler>(MsgId.Ping);
        services.AddKeyedScoped<IRequestHandler, RegisterHandler>(MsgId.Reg);
        services.AddKeyedScoped<IRequestHandler, LoginHandler>(MsgId.Login);
        services.AddKeyedScoped<IRequestHandler, LogoutHandler>(MsgId.LoginOut);
        services.AddKeyedSingleton<IRequestHandler, OneChatHandler>(MsgId.OneChat);
        services.AddKeyedScoped<IRequestHandler, AddFriendHandler>(MsgId.AddFriend);
        services.AddKeyedScoped<IRequestHandler, CreateGroupHandler>(MsgId.CreateGroup);
        services.AddKeyedScoped<IRequestHandler, JoinGroupHandler>(MsgId.AddGroup);
        services.AddKeyedSingleton<IRequestHandler, GroupChatHandler>(MsgId.GroupChat);
        services.AddSingleton<TypingLimiter>();
        services.AddKeyedSingleton<IRequestHandler, TypingHandler>(MsgId.Typing);
        services.AddKeyedScoped<IRequestHandler, HistoryHandler>(MsgId.History);
        services.AddKeyedScoped<IRequestHandler, ReadHandler>(MsgId.Read);
        services.AddKeyedScoped<IRequestHandler, LeaveGroupHandler>(MsgId.LeaveGroup);
        services.AddKeyedScoped<IRequestHandler, RemoveMemberHandler>(MsgId.RemoveMember);
        services.AddKeyedScoped<IRequestHandler, RemoveFriendHandler>(MsgId.RemoveFriend);

        // People.
        services.AddSingleton<BlockList>();
        services.AddSingleton<FindLimiter>();
        services.AddKeyedScoped<IRequestHandler, ProfileHandler>(MsgId.Profile);
        services.AddKeyedScoped<IRequestHandler, FindHandler>(MsgId.Find);
        services.AddKeyedScoped<IRequestHandler, BlockHandler>(MsgId.Block);

        // Handlers registered as singletons (the chat sends among them) run without a DI scope of their own.
        services.AddSingleton(new SingletonHandlers([.. services
            .Where(d => d.IsKeyedService && d.ServiceType == typeof(IRequestHandler) && d.Lifetime == ServiceLifetime.Singleton && d.ServiceKey is MsgId)
            .Select(d => (MsgId)d.ServiceKey!)]));
        return services;
    }
}

/// <summary>The msgids whose handlers are singletons: the dispatcher resolves them once and runs them without a DI scope.</summary>
public sealed class SingletonHandlers(IReadOnlyCollection<MsgId> msgIds)
{
    public IReadOnlyCollection<MsgId> MsgIds { get; } = msgIds;
}
