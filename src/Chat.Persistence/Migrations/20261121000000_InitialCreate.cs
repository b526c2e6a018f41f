using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Chat.Persistence.Migrations;

/// <summary>
/// Written by hand (EF Core Design is not available): store types come from the provider's mapping of the CLR
/// types, so the only provider-specific piece is <see cref="DatabaseProvider.Identity"/>.
/// Keep in step with EntityConfigurations.cs.
/// </summary>
[DbContext(typeof(ChatDbContext))]
[Migration("20261121000000_InitialCreate")]
public sealed class InitialCreate : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "users",
            columns: t => new
            {
                Id = t.Column<int>(name: "id").Identity(),
                Name = t.Column<string>(name: "name", maxLength: 64),
                PasswordHash = t.Column<string>(name: "password_hash", maxLength: 256),
            },
            constraints: t => t.PrimaryKey("pk_users", x => x.Id));
        migrationBuilder.CreateIndex(name: "ux_users_name", table: "users", column: "name", unique: true);

        migrationBuilder.CreateTable(
            name: "friends",
            columns: t => new
            {
                UserId = t.Column<int>(name: "user_id"),
                FriendId = t.Column<int>(name: "friend_id"),
            },
            constraints: t =>
            {
                t.PrimaryKey("pk_friends", x => new { x.UserId, x.FriendId });
                t.ForeignKey("fk_friends_user_id", x => x.UserId, "users", "id", onDelete: ReferentialAction.Cascade);
                t.ForeignKey("fk_friends_friend_id", x => x.FriendId, "users", "id", onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex(name: "ix_friends_friend_id", table: "friends", column: "friend_id");

        migrationBuilder.CreateTable(
            name: "groups",
            columns: t => new
            {
                Id = t.Column<int>(name: "id").Identity(),
                Name = t.Column<string>(name: "name", maxLength: 64),
                Description = t.Column<string>(name: "description", maxLength: 512),
            },
            constraints: t => t.PrimaryKey("pk_groups", x => x.Id));
        migrationBuilder.CreateIndex(name: "ux_groups_name", table: "groups", column: "name", unique: true);

        migrationBuilder.CreateTable(
            name: "group_members",
            columns: t => new
            {
                GroupId = t.Column<int>(name: "group_id"),
                UserId = t.Column<int>(name: "user_id"),
                Role = t.Column<short>(name: "role"),
            },
            constraints: t =>
            {
                t.PrimaryKey("pk_group_members", x => new { x.GroupId, x.UserId });
                t.ForeignKey("fk_group_members_group_id", x => x.GroupId, "groups", "id", onDelete: ReferentialAction.Cascade);
                t.ForeignKey("fk_group_members_user_id", x => x.UserId, "users", "id", onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex(name: "ix_group_members_user_id", table: "group_members", column: "user_id");

        migrationBuilder.CreateTable(
            name: "conversations",
            columns: t => new
            {
                Id = t.Column<long>(name: "id"),
                LastSeq = t.Column<long>(name: "last_seq"),
            },
            constraints: t => t.PrimaryKey("pk_conversations", x => x.Id));

        migrationBuilder.CreateTable(
            name: "messages",
            columns: t => new
            {
                ConversationId = t.Column<long>(name: "conversation_id"),
                Seq = t.Column<long>(name: "seq"),
                SenderId = t.Column<int>(name: "sender_id"),
                SenderName = t.Column<string>(name: "sender_name", maxLength: 64),
                Body = t.Column<string>(name: "body"),
                ClientTime = t.Column<string>(name: "client_time", maxLength: 64),
                Ts = t.Column<long>(name: "ts"),
                ClientId = t.Column<string>(name: "client_id", maxLength: 64, nullable: true),
            },
            constraints: t => t.PrimaryKey("pk_messages", x => new { x.ConversationId, x.Seq }));
        migrationBuilder.CreateIndex(
            name: "ux_messages_sender_id_client_id",
            table: "messages",
            columns: ["sender_id", "client_id"],
            unique: true);

        migrationBuilder.CreateTable(
            name: "cursors",
            columns: t => new
            {
                UserId = t.Column<int>(name: "user_id"),
                ConversationId = t.Column<long>(name: "conversation_id"),
                DeliveredSeq = t.Column<long>(name: "delivered_seq"),
            },
            constraints: t => t.PrimaryKey("pk_cursors", x => new { x.UserId, x.ConversationId }));
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "cursors");
        migrationBuilder.DropTable(name: "messages");
        migrationBuilder.DropTable(name: "conversations");
        migrationBuilder.DropTable(name: "group_members");
        migrationBuilder.DropTable(name: "groups");
        migrationBuilder.DropTable(name: "friends");
        migrationBuilder.DropTable(name: "users");
    }
}
