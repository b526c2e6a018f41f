using System.Net;
using Chat.Domain;
using Chat.Persistence;
using Chat.Protocol;
using Chat.Server.Handlers;
using Chat.Server.Hub;
using Chat.Server.Sessions;
using Chat.Server.Telemetry;
using Chat.Server.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;

namespace Chat.Server.Hosting;

public static class ChatServerExtensions
{
    /// <summary>Everything one replica needs: options, Kestrel's two ports, persistence, sessions and handlers.</summary>
    public static WebApplicationBuilder AddChatServer(this WebApplicationBuilder builder)
    {
        // Defaults below every other source (appsettings, environment, command line override them): the
        // database and HTTP libraries log each command or request at Information, which costs more than the chat.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
                ["Logging:LogLevel:Npgsql"] = "Warning",
            },
        });
        var services = builder.Services;
        services.AddOptions<ChatServerOptions>()
            .BindConfiguration(ChatServerOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => ChatTls.FilesExist(o.Tls), "Chat:Tls: the certificate or key file does not exist")
            .ValidateOnStart();
        services.AddValidatedOptions<ConnectionOptions>();
        services.AddValidatedOptions<LoginOptions>();
        services.AddValidatedOptions<MessageOptions>();

        var options = builder.Configuration.GetSection(ChatServerOptions.Section).Get<ChatServerOptions>() ?? new();
        // Frames are handled on the thread that read them instead of hopping to the thread pool: ~15% more
        // throughput here (BENCHMARKS.md). Safe only because no handler blocks: the one CPU-heavy step, PBKDF2,
        // runs on PasswordWork's own low-priority threads. DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 (environment only) does the
        // same one level down; the Dockerfile and scripts/cluster.sh set it.
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = IPAddress.Parse(options.ListenAddress);
            kestrel.Listen(address, options.Port, listen =>
            {
                // First, before TLS: the PROXY line precedes the handshake. Built here, from the bound options, so
                // that a bad TLS setting is still reported by the certificate loader below, with its path.
                var proxies = new ProxyHeaderReader(options.TrustedProxies, listen.ApplicationServices.GetRequiredService<ILogger<ProxyHeaderReader>>());
                listen.Use(proxies.Wrap);
                if (options.Tls.Enabled)
                {
                    listen.UseHttps(ChatTls.LoadCertificate(options.Tls));
                }

                listen.UseConnectionHandler<ChatConnectionHandler>();
            });
            kestrel.Listen(address, options.HttpPort);
        });

        builder.AddChatPersistence();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>(DatabaseHealthCheck.Name, tags: [ServiceDefaults.ReadyTag]);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IPasswordHasher<UserAccount>, PasswordHasher<UserAccount>>();
        services.AddOptions<PasswordHasherOptions>()
            .Configure<IOptions<LoginOptions>>((hasher, login) => hasher.IterationCount = login.Value.PasswordIterations);

        services.AddChatTelemetry();
        services.AddChatHub(builder.Configuration.GetConnectionString("Redis"));
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<ConnectionDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<ConnectionDrain>());
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<PasswordWork>();
        services.AddSingleton<LoginLifecycle>();
        services.AddSingleton<KnownUsers>();
        services.AddSingleton<MessageSender>();
        services.AddSingleton<Dispatcher>();
        services.AddSingleton<IConnectionApplication>(sp => sp.GetRequiredService<Dispatcher>());
        services.AddSingleton<StatsReporter>();

        services.AddKeyedSingleton<IRequestHandler, PingHandler>(MsgId.Ping);
        services.AddKeyedScoped<IRequestHandler, RegisterHandler>(MsgId.Reg);
        services.AddKeyedScoped<IRequestHandler, LoginHandler>(MsgId.Login);
        services.AddKeyedSingleton<IRequestHandler, LogoutHandler>(MsgId.LoginOut);
        services.AddKeyedSingleton<IRequestHandler, OneChatHandler>(MsgId.OneChat);
        services.AddKeyedScoped<IRequestHandler, AddFriendHandler>(MsgId.AddFriend);
        services.AddKeyedScoped<IRequestHandler, CreateGroupHandler>(MsgId.CreateGroup);
        services.AddKeyedScoped<IRequestHandler, JoinGroupHandler>(MsgId.AddGroup);
        services.AddKeyedSingleton<IRequestHandler, GroupChatHandler>(MsgId.GroupChat);
        return builder;
    }

    /// <summary>Options of one area, bound from the <c>Chat</c> section and validated at start.</summary>
    private static void AddValidatedOptions<TOptions>(this IServiceCollection services) where TOptions : class =>
        services.AddOptions<TOptions>()
            .BindConfiguration(ChatServerOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

    /// <summary>The chat's own HTTP side: <c>/stats</c> (figures); health and metrics come with <see cref="ServiceDefaults"/>.</summary>
    public static WebApplication MapChatEndpoints(this WebApplication app)
    {
        app.MapGet("/stats", (StatsReporter stats) => Results.Json(stats.Snapshot()));
        return app;
    }
}
