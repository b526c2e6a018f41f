using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Chat.Persistence;

// Operators and integrators (issue 24): kept apart from EntityConfigurations.cs (same rules: names, keys, lengths and indexes only).

internal sealed class WebhookOutboxConfiguration : IEntityTypeConfiguration<WebhookOutboxEntity>
{
    public void Configure(EntityTypeBuilder<WebhookOutboxEntity> e)
    {
        e.ToTable("webhook_outbox");
        e.HasKey(o => o.Id).HasName("pk_webhook_outbox");
        e.Property(o => o.Id).HasColumnName("id").HasMaxLength(32);
        e.Property(o => o.Type).HasColumnName("type").HasMaxLength(32);
        e.Property(o => o.Payload).HasColumnName("payload");
        e.Property(o => o.CreatedAt).HasColumnName("created_at");
        e.Property(o => o.DueAt).HasColumnName("due_at");
        e.Property(o => o.Attempts).HasColumnName("attempts");
        e.Property(o => o.Dead).HasColumnName("dead");
        e.Property(o => o.LastError).HasColumnName("last_error").HasMaxLength(256);
        e.HasIndex(o => new { o.Dead, o.DueAt }).HasDatabaseName("ix_webhook_outbox_dead_due_at");
    }
}

internal sealed class LeaseConfiguration : IEntityTypeConfiguration<LeaseEntity>
{
    public void Configure(EntityTypeBuilder<LeaseEntity> e)
    {
        e.ToTable("leases");
        e.HasKey(l => l.Name).HasName("pk_leases");
        e.Property(l => l.Name).HasColumnName("name").HasMaxLength(64);
        e.Property(l => l.Holder).HasColumnName("holder").HasMaxLength(128);
        e.Property(l => l.ExpiresAt).HasColumnName("expires_at");
    }
}

/// <summary>Retention finds old entries by their time: an index on messages.ts (the rest of the table is configured in EntityConfigurations.cs).</summary>
internal sealed class RetentionConfiguration : IEntityTypeConfiguration<MessageEntity>
{
    public void Configure(EntityTypeBuilder<MessageEntity> e) => e.HasIndex(m => m.Ts).HasDatabaseName("ix_messages_ts");
}
