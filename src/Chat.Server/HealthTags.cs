namespace Chat.Server;

/// <summary>The tags health checks carry: each area registers its own check with the tag of the endpoint that runs it.</summary>
public static class HealthTags
{
    /// <summary>Checks that say the process runs: <c>/healthz</c>.</summary>
    public const string Live = "live";

    /// <summary>Checks that say the replica can serve: <c>/readyz</c>.</summary>
    public const string Ready = "ready";
}
