using Microsoft.EntityFrameworkCore;

namespace Chat.Persistence;

/// <summary>
/// The one EF model, whatever the database. Each provider derives its own context only so that its migrations
/// (Migrations/MySql, Migrations/Postgres, Migrations/Sqlite) have a context type of their own; the stores ask
/// for <see cref="ChatDbContext"/>.
/// </summary>
public abstract class ChatDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<UserEntity> Users => Set<UserEntity>();

    public DbSet<FriendEntity> Friends => Set<FriendEntity>();

    public DbSet<GroupEntity> Groups => Set<GroupEntity>();

    public DbSet<GroupMemberEntity> GroupMembers => Set<GroupMemberEntity>();

    public DbSet<ConversationEntity> Conversations => Set<ConversationEntity>();

    public DbSet<MessageEntity> Messages => Set<MessageEntity>();

    public DbSet<CursorEntity> Cursors => Set<CursorEntity>();

    public DbSet<SessionTokenEntity> SessionTokens => Set<SessionTokenEntity>();

    public DbSet<BanEntity> Bans => Set<BanEntity>();
    public DbSet<AppendMarkEntity> AppendMarks => Set<AppendMarkEntity>();
    public DbSet<ReactionEntity> Reactions => Set<ReactionEntity>();
    // Files (attachments and avatars).
    public DbSet<FileEntity> Files => Set<FileEntity>();

    public DbSet<FileChunkEntity> FileChunks => Set<FileChunkEntity>();

    public DbSet<MessageFileEntity> MessageFiles => Set<MessageFileEntity>();

    // People: profiles and blocks.
    public DbSet<ProfileEntity> Profiles => Set<ProfileEntity>();

    public DbSet<BlockEntity> Blocks => Set<BlockEntity>();

    // Operators and integrators: the webhook outbox, leases, retention.
    public DbSet<WebhookOutboxEntity> WebhookOutbox => Set<WebhookOutboxEntity>();

    public DbSet<LeaseEntity> Leases => Set<LeaseEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfiguration(new UserConfiguration());
        modelBuilder.ApplyConfiguration(new FriendConfiguration());
        modelBuilder.ApplyConfiguration(new GroupConfiguration());
        modelBuilder.ApplyConfiguration(new GroupMemberConfiguration());
        modelBuilder.ApplyConfiguration(new ConversationConfiguration());
        modelBuilder.ApplyConfiguration(new MessageConfiguration());
        modelBuilder.ApplyConfiguration(new CursorConfiguration());
        modelBuilder.ApplyConfiguration(new SessionTokenConfiguration());
        modelBuilder.ApplyConfiguration(new BanConfiguration());
        modelBuilder.ApplyConfiguration(new AppendMarkConfiguration());
        modelBuilder.ApplyConfiguration(new ReactionConfiguration());

        // Files (attachments and avatars).
        modelBuilder.ApplyConfiguration(new FileConfiguration());
        modelBuilder.ApplyConfiguration(new FileChunkConfiguration());
        modelBuilder.ApplyConfiguration(new MessageFileConfiguration());

        // People: profiles and blocks.
        modelBuilder.ApplyConfiguration(new ProfileConfiguration());
        modelBuilder.ApplyConfiguration(new BlockConfiguration());

        // Operators and integrators: the webhook outbox, leases, retention.
        modelBuilder.ApplyConfiguration(new WebhookOutboxConfiguration());
        modelBuilder.ApplyConfiguration(new LeaseConfiguration());
        modelBuilder.ApplyConfiguration(new RetentionConfiguration());
    }
}
