namespace Chat.Persistence;

// Operators and integrators (issue 24): the webhook outbox and the database leases that let one replica at a time
// deliver webhooks or erase old messages. Names in OperatorConfigurations.cs.

/// <summary>
/// A webhook event waiting to be delivered, inserted in the same transaction as what caused it (a message batch, a
/// registration, a ban): a replica that dies after the commit loses none. Deleted once the receiver took it;
/// dead-lettered (kept, <see cref="Dead"/>) after <c>Chat:Webhooks:MaxAttempts</c> failed attempts.
/// </summary>
public sealed class WebhookOutboxEntity
{
    /// <summary>The delivery id (<c>X-Chat-Delivery</c>): 32 lower-case hex digits, the same on every attempt.</summary>
    public required string Id { get; set; }

    /// <summary><c>message.offline</c>, <c>user.registered</c>, <c>user.banned</c>.</summary>
    public required string Type { get; set; }

    /// <summary>The event's own fields, a JSON object; the body sent is it with <c>type</c>, <c>id</c> and <c>ts</c> in front.</summary>
    public required string Payload { get; set; }

    /// <summary>When it happened, milliseconds since the Unix epoch (the body's <c>ts</c>).</summary>
    public long CreatedAt { get; set; }

    /// <summary>Not to be tried before this (milliseconds since the Unix epoch): the backoff after a failed attempt.</summary>
    public long DueAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>Dead-lettered: no more attempts.</summary>
    public bool Dead { get; set; }

    /// <summary>What the last failed attempt got (a status code or an exception's type), for an operator.</summary>
    public string? LastError { get; set; }
}

/// <summary>
/// A lease in the database: one replica at a time holds <see cref="Name"/> until <see cref="ExpiresAt"/>, renewing it
/// while it works; a replica that dies stops renewing and another takes over once it expires. The same statements on
/// every engine (a conditional UPDATE), so MariaDB, PostgreSQL and SQLite alike.
/// </summary>
public sealed class LeaseEntity
{
    public required string Name { get; set; }

    /// <summary>The replica holding it (its id and a per-process nonce); "" when none ever did.</summary>
    public required string Holder { get; set; }

    /// <summary>Milliseconds since the Unix epoch.</summary>
    public long ExpiresAt { get; set; }
}
