using System.ComponentModel.DataAnnotations;
using Chat.Domain;
using Microsoft.Extensions.Options;

namespace Chat.Server.Sessions;

/// <summary>
/// Fills a hole in the order a session receives a conversation. Entries reach a replica by different roads (its own
/// writer, the bus from each other replica that stored into the conversation), so one may come before another with a
/// lower seq. The session then holds the later ones back (<see cref="UserSession"/>) for <see cref="DeliveryOptions.GapWait"/>;
/// if the hole is still open, it asks the store — the log itself — for what is missing and releases everything in seq
/// order. What the store cannot give in time is skipped: it stays beyond the delivered-cursor, so it comes again at the
/// next login, or by resume. Nothing is ever sent out of order.
/// </summary>
/// <param name="missing">The stored entries with seqs strictly between two, that the user may see, ascending.</param>
public sealed class GapFill(Func<int, long, long, long, Task<IReadOnlyList<Delivery>>> missing, TimeProvider time, DeliveryOptions options)
{
    /// <summary>How long a hole may stay open before the store is asked.</summary>
    public TimeSpan Wait => options.GapWait;

    /// <summary>At most this many entries held back per conversation: past it the hole is given up at once.</summary>
    public int MaxHeld => options.MaxHeld;

    public ITimer Arm(Action elapsed) => time.CreateTimer(_ => elapsed(), null, options.GapWait, Timeout.InfiniteTimeSpan);

    /// <summary>What fills the hole between <paramref name="after"/> and <paramref name="before"/>; nothing when it is too wide to fetch.</summary>
    public Task<IReadOnlyList<Delivery>> MissingAsync(int userId, long conversationId, long after, long before) =>
        before - after - 1 is var width && width > 0 && width <= options.MaxGapFill
            ? missing(userId, conversationId, after, before)
            : Task.FromResult<IReadOnlyList<Delivery>>([]);

    /// <summary>The store's entries of a conversation between two seqs, read in a scope of their own (the session outlives any).</summary>
    public static GapFill FromStore(IServiceProvider services)
    {
        var scopes = services.GetRequiredService<IServiceScopeFactory>();
        return new GapFill(
            async (userId, conversationId, after, before) =>
            {
                await using var scope = scopes.CreateAsyncScope();
                var entries = await scope.ServiceProvider.GetRequiredService<IChatStore>()
                    .EntriesAsync(userId, conversationId, after, before, CancellationToken.None);
                return [.. entries.Select(Delivery.Of)];
            },
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<IOptions<DeliveryOptions>>().Value);
    }
}

/// <summary>In-order release of live entries (section <c>Chat:Delivery</c>).</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Chat:Delivery";

    /// <summary>How long a session holds entries back behind a missing seq before it fetches the gap from the store.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan GapWait { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The widest gap fetched from the store; a wider one is skipped (its entries come at the next login or by resume).</summary>
    [Range(1, 100_000)]
    public int MaxGapFill { get; set; } = 1_000;

    /// <summary>Entries one session may hold back in one conversation; beyond, the gap is skipped at once.</summary>
    [Range(1, 1_000_000)]
    public int MaxHeld { get; set; } = 4_096;
}
