using Chat.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Chat.Persistence;

// Provider-neutral on purpose: names, keys, lengths and indexes only; store types come from the provider's
// mapping of the CLR types. After a change here, add a migration for every provider (README, "Migrations").

internal sealed class UserConfiguration : IEntityTypeConfiguration<UserEntity>
{
    public void Configure(EntityTypeBuilder<UserEntity> e)
    {
        e.ToTable("users");
        e.HasKey(u => u.Id).HasName("pk_users");
        e.Property(u => u.Id).HasColumnName("id").ValueGeneratedOnAdd();
        e.Property(u => u.Name).HasColumnName("name").HasMaxLength(64);
        e.Property(u => u.PasswordHash).HasColumnName("password_hash").HasMaxLength(256);
        e.HasIndex(u => u.Name).IsUnique().HasDatabaseName("ux_users_name");
    }
}

internal sealed class FriendConfiguration : IEntityTypeConfiguration<FriendEntity>
{
    public void Configure(EntityTypeBuilder<FriendEntity> e)
    {
        e.ToTable("friends");
        e.HasKey(f => new { f.UserId, f.FriendId }).HasName("pk_friends");
        e.Property(f => f.UserId).HasColumnName("user_id");
        e.Property(f => f.FriendId).HasColumnName("friend_id");
        e.HasIndex(f => f.FriendId).HasDatabaseName("ix_friends_friend_id");
        e.HasOne<UserEntity>().WithMany().HasForeignKey(f => f.UserId).HasConstraintName("fk_friends_user_id");
        e.HasOne<UserEntity>().WithMany().HasForeignKey(f => f.FriendId).HasConstraintName("fk_friends_friend_id");
    }
}

internal sealed class GroupConfiguration : IEntityTypeConfiguration<GroupEntity>
{
    public void Configure(EntityTypeBuilder<GroupEntity> e)
    {
        e.ToTable("groups");
        e.HasKey(g => g.Id).HasName("pk_groups");
        e.Property(g => g.Id).HasColumnName("id").ValueGeneratedOnAdd();
        e.Property(g => g.Name).HasColumnName("name").HasMaxLength(64);
        e.Property(g => g.Description).HasColumnName("description").HasMaxLength(512);
        e.Property(g => g.CreatorId).HasColumnName("creator_id");
        e.Property(g => g.ClientId).HasColumnName("client_id").HasMaxLength(64);
        e.HasIndex(g => g.Name).IsUnique().HasDatabaseName("ux_groups_name");
    }
}

internal sealed class GroupMemberConfiguration : IEntityTypeConfiguration<GroupMemberEntity>
{
    public void Configure(EntityTypeBuilder<GroupMemberEntity> e)
    {
        e.ToTable("group_members");
        e.HasKey(m => new { m.GroupId, m.UserId }).HasName("pk_group_members");
        e.Property(m => m.GroupId).HasColumnName("group_id");
        e.Property(m => m.UserId).HasColumnName("user_id");
        e.Property(m => m.Role).HasColumnName("role").HasConversion<short>();
        e.Property(m => m.JoinedAt).HasColumnName("joined_at").HasDefaultValue(0L);
        e.HasIndex(m => m.UserId).HasDatabaseName("ix_group_members_user_id");
        e.HasOne<GroupEntity>().WithMany().HasForeignKey(m => m.GroupId).HasConstraintName("fk_group_members_group_id");
        e.HasOne<UserEntity>().WithMany().HasForeignKey(m => m.UserId).HasConstraintName("fk_group_members_user_id");
    }
}

internal sealed class ConversationConfiguration : IEntityTypeConfiguration<ConversationEntity>
{
    public void Configure(EntityTypeBuilder<ConversationEntity> e)
    {
        e.ToTable("conversations");
        e.HasKey(c => c.Id).HasName("pk_conversations");
        e.Property(c => c.Id).HasColumnName("id").ValueGeneratedNever();
        e.Property(c => c.LastSeq).HasColumnName("last_seq");
    }
}

internal sealed class MessageConfiguration : IEntityTypeConfiguration<MessageEntity>
{
    public void Configure(EntityTypeBuilder<MessageEntity> e)
    {
        e.ToTable("messages");
        e.HasKey(m => new { m.ConversationId, m.Seq }).HasName("pk_messages");
        e.Property(m => m.ConversationId).HasColumnName("conversation_id");
        e.Property(m => m.Seq).HasColumnName("seq").ValueGeneratedNever();
        e.Property(m => m.SenderId).HasColumnName("sender_id");
        e.Property(m => m.SenderName).HasColumnName("sender_name").HasMaxLength(64);
        e.Property(m => m.Body).HasColumnName("body");
        e.Property(m => m.ClientTime).HasColumnName("client_time").HasMaxLength(64);
        e.Property(m => m.Ts).HasColumnName("ts");
        e.Property(m => m.ClientId).HasColumnName("client_id").HasMaxLength(64);
        e.HasIndex(m => new { m.SenderId, m.ClientId }).IsUnique().HasDatabaseName("ux_messages_sender_id_client_id");

        // The conversation is a log (issue 21).
        e.Property(m => m.Kind).HasColumnName("kind").HasConversion<short>();
        e.Property(m => m.RefSeq).HasColumnName("ref_seq");
        e.Property(m => m.EditedTs).HasColumnName("edited_ts");
        e.Property(m => m.Recalled).HasColumnName("recalled");
        e.Property(m => m.ReplySeq).HasColumnName("reply_seq");
        e.Property(m => m.Reactions).HasColumnName("reactions");
    }
}

/// <summary>Reactions (issue 21): one row per message, user and emoji.</summary>
internal sealed class ReactionConfiguration : IEntityTypeConfiguration<ReactionEntity>
{
    public void Configure(EntityTypeBuilder<ReactionEntity> e)
    {
        e.ToTable("reactions");
        e.HasKey(r => new { r.ConversationId, r.Seq, r.UserId, r.Emoji }).HasName("pk_reactions");
        e.Property(r => r.ConversationId).HasColumnName("conversation_id");
        e.Property(r => r.Seq).HasColumnName("seq");
        e.Property(r => r.UserId).HasColumnName("user_id");
        e.Property(r => r.Emoji).HasColumnName("emoji").HasMaxLength(16);
        e.Property(r => r.Ts).HasColumnName("ts");
    }
}

internal sealed class CursorConfiguration : IEntityTypeConfiguration<CursorEntity>
{
    public void Configure(EntityTypeBuilder<CursorEntity> e)
    {
        e.ToTable("cursors");
        e.HasKey(c => new { c.UserId, c.ConversationId }).HasName("pk_cursors");
        e.Property(c => c.UserId).HasColumnName("user_id");
        e.Property(c => c.ConversationId).HasColumnName("conversation_id");
        e.Property(c => c.DeliveredSeq).HasColumnName("delivered_seq");
        e.Property(c => c.FromSeq).HasColumnName("from_seq").HasDefaultValue(0L);
        e.Property(c => c.ReadSeq).HasColumnName("read_seq").HasDefaultValue(0L);
    }
}

internal sealed class SessionTokenConfiguration : IEntityTypeConfiguration<SessionTokenEntity>
{
    public void Configure(EntityTypeBuilder<SessionTokenEntity> e)
    {
        e.ToTable("session_tokens");
        e.HasKey(t => t.TokenHash).HasName("pk_session_tokens");
        e.Property(t => t.TokenHash).HasColumnName("token_hash").HasMaxLength(64);
        e.Property(t => t.UserId).HasColumnName("user_id");
        e.Property(t => t.ExpiresAt).HasColumnName("expires_at");
        e.HasIndex(t => t.UserId).HasDatabaseName("ix_session_tokens_user_id");
        e.HasOne<UserEntity>().WithMany().HasForeignKey(t => t.UserId).HasConstraintName("fk_session_tokens_user_id");
    }
}

internal sealed class BanConfiguration : IEntityTypeConfiguration<BanEntity>
{
    public void Configure(EntityTypeBuilder<BanEntity> e)
    {
        e.ToTable("bans");
        e.HasKey(b => b.UserId).HasName("pk_bans");
        e.Property(b => b.UserId).HasColumnName("user_id").ValueGeneratedNever();
        e.Property(b => b.Reason).HasColumnName("reason").HasMaxLength(Validation.MaxBanReasonLength);
        e.Property(b => b.Until).HasColumnName("until");
        e.Property(b => b.CreatedAt).HasColumnName("created_at");
        e.HasOne<UserEntity>().WithMany().HasForeignKey(b => b.UserId).HasConstraintName("fk_bans_user_id");
    }
}

internal sealed class AppendMarkConfiguration : IEntityTypeConfiguration<AppendMarkEntity>
{
    public void Configure(EntityTypeBuilder<AppendMarkEntity> e)
    {
        e.ToTable("append_marks");
        e.HasKey(m => new { m.LaneId, m.Batch }).HasName("pk_append_marks");
        e.Property(m => m.LaneId).HasColumnName("lane_id").ValueGeneratedNever();
        e.Property(m => m.Batch).HasColumnName("batch").ValueGeneratedNever();
        e.Property(m => m.CreatedAt).HasColumnName("created_at");
        e.Property(m => m.Seqs).HasColumnName("seqs");
    }
}
