using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Chat.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class FoldedReactions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "reactions",
                table: "messages",
                type: "TEXT",
                nullable: true);

            // Reactions made before this release, folded as LogEvents folds them on each REACT.
            migrationBuilder.Sql(
                "UPDATE messages SET reactions = (SELECT group_concat(f.user_id || ':' || f.emoji, ' ') FROM (SELECT r.user_id, r.emoji FROM reactions r WHERE r.conversation_id = messages.conversation_id AND r.seq = messages.seq ORDER BY r.ts, r.user_id) f) " +
                "WHERE EXISTS (SELECT 1 FROM reactions r WHERE r.conversation_id = messages.conversation_id AND r.seq = messages.seq)");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "reactions",
                table: "messages");
        }
    }
}
