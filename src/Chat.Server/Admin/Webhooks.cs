using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Chat.Domain;
using Chat.Persistence;
using Chat.Server.Hub;
using Chat.Server.Telemetry;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Chat.Server.Admin;

/// <summary>Webhooks (section <c>Chat:Webhooks</c>): off while <see cref="Url"/> is empty.</summary>
public sealed class WebhookOptions : IValidatableObject
{
    public const string Section = "Chat:Webhooks";

    /// <summary>Where events are POSTed. Empty: webhooks are off, and nothing of them runs or is written.</summary>
    public string Url { get; set; } = "";

    /// <summary>The key of each body's HMAC-SHA256 (<c>X-Chat-Signature</c>); required with a <see cref="Url"/>.</summary>
    public string Secret { get; set; } = "";

    /// <summary>Attempts before an event is dead-lettered (kept in the outbox, marked dead, counted in /metrics).</summary>
    [Range(1, 1_000)]
    public int MaxAttempts { get; set; } = 15;

    /// <summary>The wait after the first failed attempt; it doubles after each further one, up to <see cref="MaxBackoff"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Deliveries in flight at once (and the most one round of the dispatcher takes).</summary>
    [Range(1, 256)]
    public int Concurrency { get; set; } = 8;

    /// <summary>One attempt of a delivery, its quick retries included: a receiver that hangs costs no more.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the delivering replica looks for due events when it found none.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the delivering replica's database lease lasts unrenewed: after a replica dies, another delivers once it
    /// has expired. Longer than <see cref="Timeout"/>, so a live holder always renews it in time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    public bool Enabled => Url.Length > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
        {
            yield break;
        }

        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            yield return new ValidationResult("Chat:Webhooks:Url must be an absolute http or https URL", [nameof(Url)]);
        }

        if (Secret.Length < 16)
        {
            yield return new ValidationResult("Chat:Webhooks:Secret must be set (at least 16 characters) when Chat:Webhooks:Url is", [nameof(Secret)]);
        }

        if (Lease <= Timeout * 2)
        {
            yield return new ValidationResult("Chat:Webhooks:Lease must be more than twice Chat:Webhooks:Timeout", [nameof(Lease)]);
        }
    }
}

/// <summary>Retention and webhooks (issue 24): registered beside the admin API.</summary>
public static class OperatorExtensions
{
    public static IServiceCollection AddChatOperations(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddScoped<LeaseStore>();
        services.AddScoped<RetentionStore>();
        services.AddSingleton<LeaseHolder>();
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RetentionService>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionService>());

        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var webhooks = configuration.GetSection(WebhookOptions.Section).Get<WebhookOptions>() ?? new WebhookOptions();
        if (!webhooks.Enabled)
        {
            return services; // nothing registered: the writer asks no one, the stores write no outbox rows
        }

        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<IOfflineRecipients, OfflineRecipients>();
        services.AddScoped<WebhookStore>();
        services.AddSingleton<WebhookMetrics>();
        services.AddHttpClient(WebhookDispatcher.ClientName, c => c.Timeout = webhooks.Timeout + TimeSpan.FromSeconds(5))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false, // a redirect is a failed attempt, never followed
                UseProxy = false,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                MaxConnectionsPerServer = webhooks.Concurrency,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            .AddResilienceHandler("webhooks", (pipeline, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<IOptions<WebhookOptions>>().Value;
                // Outermost: the whole attempt, quick retries included, within Timeout. Then two quick retries of a
                // transient failure (5xx, 408, 429, a refused or broken connection), exponential with jitter; each try
                // within a third of Timeout. The outbox's own backoff (FirstBackoff..MaxBackoff) spaces the attempts.
                pipeline.AddTimeout(o.Timeout);
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = 2,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = TimeSpan.FromMilliseconds(200),
                });
                pipeline.AddTimeout(o.Timeout / 3);
            });
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        return services;
    }
}

/// <summary>
/// Who of a batch's recipients has no session online anywhere (<see cref="IOfflineRecipients"/>): a direct message's
/// peer, a group message's other members (read in one query for the batch's groups), then one presence lookup for all
/// of them (<see cref="ChatHub.OnlineAsync"/>: those with a session on this replica are known without asking Redis).
/// Asked by the writer once per batch, only when webhooks are on.
/// </summary>
public sealed class OfflineRecipients(IServiceProvider services, IServiceScopeFactory scopes) : IOfflineRecipients
{
    // Resolved at first use: the hub's own dependencies reach the message writer, which asks this.
    private ChatHub? _hub;

    private ChatHub Hub => _hub ??= services.GetRequiredService<ChatHub>();

    public async Task<IReadOnlyList<int>?[]> FindAsync(IReadOnlyList<ChatMessage> messages, CancellationToken ct)
    {
        var found = new IReadOnlyList<int>?[messages.Count];
        var groups = messages.Where(m => m.Kind == EntryKind.Message && m.IsGroup).Select(m => m.TargetId).Distinct().ToList();
        ILookup<int, int> members = Array.Empty<int>().ToLookup(g => g);
        if (groups.Count > 0)
        {
            await using var scope = scopes.CreateAsyncScope();
            members = await scope.ServiceProvider.GetRequiredService<WebhookStore>().MembersAsync(groups, ct);
        }

        var recipients = new int[messages.Count][];
        for (var p = 0; p < messages.Count; p++)
        {
            var m = messages[p];
            recipients[p] = m.Kind != EntryKind.Message ? []
                : m.IsGroup ? [.. members[m.TargetId].Where(u => u != m.SenderId)]
                : m.TargetId == m.SenderId ? [] : [m.TargetId];
        }

        var everyone = recipients.SelectMany(r => r).Distinct().ToList();
        if (everyone.Count == 0)
        {
            return found;
        }

        var online = await Hub.OnlineAsync(everyone);
        for (var p = 0; p < messages.Count; p++)
        {
            var offline = recipients[p].Where(u => !online.Contains(u)).ToList();
            found[p] = offline.Count > 0 ? offline : null;
        }

        return found;
    }
}

/// <summary>The webhooks' instruments, on the <c>Chat.Server</c> meter (/metrics).</summary>
public sealed class WebhookMetrics
{
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _dead;

    public WebhookMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(ChatMetrics.MeterName);
        _delivered = meter.CreateCounter<long>("chat.webhooks.delivered", "{event}", "Webhook events the receiver took (2xx)");
        _failed = meter.CreateCounter<long>("chat.webhooks.failed_attempts", "{attempt}", "Webhook attempts that failed (to be retried or dead-lettered)");
        _dead = meter.CreateCounter<long>("chat.webhooks.dead_lettered", "{event}", "Webhook events given up after Chat:Webhooks:MaxAttempts");
    }

    public void Delivered(int count) => _delivered.Add(count);

    public void Failed() => _failed.Add(1);

    public void DeadLettered() => _dead.Add(1);
}

/// <summary>
/// Delivers the outbox at least once. Every replica runs one; the one holding the database lease <c>webhooks</c>
/// delivers (one replica at a time, whatever the engine), the others wait to take over once it stops renewing (it died).
/// A round takes up to <see cref="WebhookOptions.Concurrency"/> due events and POSTs them at once, each through the
/// resilience pipeline (timeouts, quick retries); a 2xx deletes the row, anything else schedules the next attempt with
/// exponential backoff, or dead-letters it after <see cref="WebhookOptions.MaxAttempts"/>. A receiver that hangs or fails
/// costs only this loop: chat never waits on it.
/// </summary>
public sealed class WebhookDispatcher(
    IServiceScopeFactory scopes,
    IHttpClientFactory http,
    LeaseHolder leases,
    WebhookMetrics metrics,
    TimeProvider time,
    IOptions<WebhookOptions> options,
    ILogger<WebhookDispatcher> log) : BackgroundService
{
    public const string ClientName = "webhooks";
    public const string LeaseName = "webhooks";

    private readonly byte[] _key = Encoding.UTF8.GetBytes(options.Value.Secret);
    private bool _leading;

    /// <summary><c>sha256=</c> and the lower-case hex HMAC-SHA256 of <paramref name="body"/> with <paramref name="key"/>.</summary>
    public static string Signature(byte[] key, ReadOnlySpan<byte> body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(key, body));

    /// <summary>The body sent: <c>{"type", "id", "ts", ...the event's fields}</c>.</summary>
    public static byte[] Body(WebhookOutboxEntity row)
    {
        var head = $$"""{"type":"{{row.Type}}","id":"{{row.Id}}","ts":{{row.CreatedAt}}""";
        var members = row.Payload.AsSpan().Trim()[1..^1]; // the payload object's members, without its braces
        return Encoding.UTF8.GetBytes(members.IsEmpty ? head + "}" : string.Concat(head, ",", members, "}"));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var full = false;
                try
                {
                    full = await RoundAsync(stoppingToken);
                    if (!full)
                    {
                        await Task.Delay(o.PollInterval, time, stoppingToken);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    OperatorLog.DispatcherFailed(log, ex);
                    await Task.Delay(o.PollInterval, time, CancellationToken.None);
                }
                catch (Exception) when (stoppingToken.IsCancellationRequested)
                {
                    break; // stopping
                }
            }
        }
        finally
        {
            if (_leading)
            {
                // Stopping cleanly: another replica may deliver at once instead of waiting for the lease to lapse.
                try
                {
                    await leases.ReleaseAsync(LeaseName, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
                }
                catch (Exception ex)
                {
                    OperatorLog.DispatcherFailed(log, ex);
                }
            }
        }
    }

    /// <summary>One round: true when it found as many due events as it takes (more may be waiting).</summary>
    private async Task<bool> RoundAsync(CancellationToken ct)
    {
        var o = options.Value;
        var leading = await leases.TryHoldAsync(LeaseName, o.Lease, ct);
        if (leading && !_leading)
        {
            OperatorLog.DispatcherLeading(log, leases.Id);
        }

        _leading = leading;
        if (!leading)
        {
            return false;
        }

        IReadOnlyList<WebhookOutboxEntity> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            due = await scope.ServiceProvider.GetRequiredService<WebhookStore>().DueAsync(time.GetUtcNow().ToUnixTimeMilliseconds(), o.Concurrency, ct);
        }

        if (due.Count == 0)
        {
            return false;
        }

        var outcomes = await Task.WhenAll(due.Select(row => DeliverAsync(row, ct)));
        await using (var scope = scopes.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<WebhookStore>();
            var delivered = due.Where((_, i) => outcomes[i] is null).Select(r => r.Id).ToList();
            await store.DeliveredAsync(delivered, CancellationToken.None);
            metrics.Delivered(delivered.Count);
            for (var i = 0; i < due.Count; i++)
            {
                if (outcomes[i] is { } error)
                {
                    await FailedAsync(store, due[i], error);
                }
            }
        }

        return due.Count == o.Concurrency;
    }

    /// <summary>Null when the receiver took it (2xx); else what went wrong.</summary>
    private async Task<string?> DeliverAsync(WebhookOutboxEntity row, CancellationToken ct)
    {
        var body = Body(row);
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("X-Chat-Delivery", row.Id);
        request.Headers.Add("X-Chat-Event", row.Type);
        request.Headers.Add("X-Chat-Signature", Signature(_key, body));
        try
        {
            using var response = await http.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            return ex.GetType().Name;
        }
    }

    private async Task FailedAsync(WebhookStore store, WebhookOutboxEntity row, string error)
    {
        var o = options.Value;
        var attempts = row.Attempts + 1;
        var dead = attempts >= o.MaxAttempts;
        var backoff = TimeSpan.FromMilliseconds(Math.Min(o.MaxBackoff.TotalMilliseconds, o.FirstBackoff.TotalMilliseconds * Math.Pow(2, attempts - 1)));
        backoff += backoff * (Random.Shared.NextDouble() * 0.1); // a little jitter, so a recovering receiver is not hit by all at once
        await store.FailedAsync(row.Id, attempts, time.GetUtcNow().Add(backoff).ToUnixTimeMilliseconds(), dead, error, CancellationToken.None);
        metrics.Failed();
        if (dead)
        {
            metrics.DeadLettered();
            OperatorLog.DeadLettered(log, row.Id, row.Type, attempts, error);
        }
        else
        {
            OperatorLog.DeliveryFailed(log, row.Id, row.Type, attempts, error);
        }
    }
}
