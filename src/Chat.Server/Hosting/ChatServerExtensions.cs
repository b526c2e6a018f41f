using System.Net;
using Chat.Domain;
using Chat.Persistence;
using Chat.Protocol;
using Chat.Server.Admin;
using Chat.Server.Files;
using Chat.Server.Handlers;
using Chat.Server.Hub;
using Chat.Server.Sessions;
using Chat.Server.Telemetry;
using Chat.Server.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Chat.Server.Hosting;

public static class ChatServerExtensions
{
    // The database clients publish their spans and instruments under their own names (no extra package needed).
    private static readonly string[] DatabaseClients = ["Npgsql", "MySqlConnector"];

    /// <summary>Everything one replica needs: each area registers its own parts; Kestrel listens as the validated options say.</summary>
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
        builder.AddChatPersistence();
        var services = builder.Services;
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>(PersistenceExtensions.ProviderName(builder.Configuration), tags: [HealthTags.Ready]);
        // The store's instruments and its drivers' (Chat.Persistence has no OpenTelemetry of its own to add them with).
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(StoreMetrics.MeterName).AddMeter(DatabaseClients));
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(DatabaseClients));
        services.AddSingleton(TimeProvider.System);
        services.AddChatTelemetry();
        services.AddChatHub(builder.Configuration.GetConnectionString("Redis"));
        services.AddChatTransport();
        services.AddChatSessions();
        services.AddChatHandlers();
        services.AddChatFiles(builder.Configuration);
        services.AddSingleton<StatsReporter>();
        services.AddChatAdmin();
        services.AddChatOperations(builder.Configuration); // retention and webhooks (issue 24)
        services.AddChatOptions<ChatServerOptions>();
        services.AddSingleton<IValidateOptions<ChatServerOptions>, ChatTlsValidator>();
        builder.WebHost.ConfigureChatKestrel();
        return builder;
    }

    /// <summary>
    /// The chat port (PROXY, then TLS, then the chat) and the HTTP port, from the validated <see cref="ChatServerOptions"/>.
    /// Frames are handled on the thread that read them instead of hopping to the thread pool: ~15% more throughput
    /// here (BENCHMARKS.md). Safe only because no handler blocks: the one CPU-heavy step, PBKDF2, runs on PasswordWork's own low-priority threads.
    /// DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 (environment only) does the same one level down; the Dockerfile
    /// and scripts/cluster.sh set it.
    /// </summary>
    private static void ConfigureChatKestrel(this IWebHostBuilder host)
    {
        host.UseSockets(o =>
        {
            o.UnsafePreferInlineScheduling = true;
            // A dead replica's users all reconnect within a second: 512 (Kestrel's default) pending connects overflow,
            // and the balancer gives up on the rest (the kernel caps this at net.core.somaxconn).
            o.Backlog = 4096;
        });
        host.ConfigureKestrel(kestrel =>
        {
            var services = kestrel.ApplicationServices;
            var options = services.GetRequiredService<IOptions<ChatServerOptions>>().Value;
            var address = IPAddress.Parse(options.ListenAddress);
            kestrel.Listen(address, options.Port, listen =>
            {
                // First, before TLS: the PROXY line precedes the handshake.
                listen.Use(new ProxyHeaderReader(options.TrustedProxies, services.GetRequiredService<ILogger<ProxyHeaderReader>>()).Wrap);
                if (options.Tls.Enabled)
                {
                    listen.UseHttps(ChatTls.LoadCertificate(options.Tls));
                }

                listen.UseConnectionHandler<ChatConnectionHandler>();
            });
            kestrel.Listen(address, options.HttpPort);
        });
    }

    /// <summary>
    /// The chat's own HTTP side: <c>/stats</c> (figures), <c>/ws</c> (chat over WebSocket) and the web client at
    /// <c>/</c>; health and metrics come with <see cref="ServiceDefaults"/>.
    /// </summary>
    public static WebApplication MapChatEndpoints(this WebApplication app)
    {
        app.UseWebClient();
        app.MapGet("/stats", (StatsReporter stats) => Results.Json(stats.Snapshot()));
        app.MapChatWebSocket();
        app.MapChatAdmin();
        app.MapFiles();
        return app;
    }
}
