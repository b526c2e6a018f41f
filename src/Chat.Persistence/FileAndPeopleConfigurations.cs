using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Chat.Persistence;

// Files: kept apart from EntityConfigurations.cs (same rules: names, keys, lengths and indexes only).

internal sealed class FileConfiguration : IEntityTypeConfiguration<FileEntity>
{
    public void Configure(EntityTypeBuilder<FileEntity> e)
    {
        e.ToTable("files");
        e.HasKey(f => f.Id).HasName("pk_files");
        e.Property(f => f.Id).HasColumnName("id").HasMaxLength(32);
        e.Property(f => f.UploaderId).HasColumnName("uploader_id");
        e.Property(f => f.Name).HasColumnName("name").HasMaxLength(255);
        e.Property(f => f.Type).HasColumnName("type").HasMaxLength(127);
        e.Property(f => f.Size).HasColumnName("size");
        e.Property(f => f.ThumbType).HasColumnName("thumb_type").HasMaxLength(32);
        e.Property(f => f.ThumbSize).HasColumnName("thumb_size");
        e.Property(f => f.CreatedAt).HasColumnName("created_at");
        e.Property(f => f.SentAt).HasColumnName("sent_at");
        e.HasIndex(f => new { f.UploaderId, f.CreatedAt }).HasDatabaseName("ix_files_uploader_id_created_at");
        e.HasIndex(f => new { f.SentAt, f.CreatedAt }).HasDatabaseName("ix_files_sent_at_created_at");
        e.HasOne<UserEntity>().WithMany().HasForeignKey(f => f.UploaderId).HasConstraintName("fk_files_uploader_id");
    }
}

internal sealed class FileChunkConfiguration : IEntityTypeConfiguration<FileChunkEntity>
{
    public void Configure(EntityTypeBuilder<FileChunkEntity> e)
    {
        e.ToTable("file_chunks");
        e.HasKey(c => new { c.FileId, c.Part, c.Index }).HasName("pk_file_chunks");
        e.Property(c => c.FileId).HasColumnName("file_id").HasMaxLength(32);
        e.Property(c => c.Part).HasColumnName("part");
        e.Property(c => c.Index).HasColumnName("idx");
        e.Property(c => c.Data).HasColumnName("data");
    }
}

internal sealed class MessageFileConfiguration : IEntityTypeConfiguration<MessageFileEntity>
{
    public void Configure(EntityTypeBuilder<MessageFileEntity> e)
    {
        e.ToTable("message_files");
        e.HasKey(m => new { m.ConversationId, m.Seq }).HasName("pk_message_files");
        e.Property(m => m.ConversationId).HasColumnName("conversation_id");
        e.Property(m => m.Seq).HasColumnName("seq");
        e.Property(m => m.FileId).HasColumnName("file_id").HasMaxLength(32);
        e.HasIndex(m => m.FileId).HasDatabaseName("ix_message_files_file_id");
    }
}

internal sealed class ProfileConfiguration : IEntityTypeConfiguration<ProfileEntity>
{
    public void Configure(EntityTypeBuilder<ProfileEntity> e)
    {
        e.ToTable("profiles");
        e.HasKey(p => p.UserId).HasName("pk_profiles");
        e.Property(p => p.UserId).HasColumnName("user_id").ValueGeneratedNever();
        e.Property(p => p.About).HasColumnName("about").HasMaxLength(140);
        e.Property(p => p.Avatar).HasColumnName("avatar").HasMaxLength(32);
        e.HasOne<UserEntity>().WithMany().HasForeignKey(p => p.UserId).HasConstraintName("fk_profiles_user_id");
    }
}

internal sealed class BlockConfiguration : IEntityTypeConfiguration<BlockEntity>
{
    public void Configure(EntityTypeBuilder<BlockEntity> e)
    {
        e.ToTable("blocks");
        e.HasKey(b => new { b.UserId, b.BlockedId }).HasName("pk_blocks");
        e.Property(b => b.UserId).HasColumnName("user_id");
        e.Property(b => b.BlockedId).HasColumnName("blocked_id");
        e.HasIndex(b => b.BlockedId).HasDatabaseName("ix_blocks_blocked_id");
        e.HasOne<UserEntity>().WithMany().HasForeignKey(b => b.UserId).HasConstraintName("fk_blocks_user_id");
        e.HasOne<UserEntity>().WithMany().HasForeignKey(b => b.BlockedId).HasConstraintName("fk_blocks_blocked_id");
    }
}
