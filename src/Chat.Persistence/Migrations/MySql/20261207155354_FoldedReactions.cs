using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Chat.Persistence.Migrations.MySql
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
                type: "longtext",
                nullable: true,
                collation: "utf8mb4_bin")
                .Annotation("MySql:CharSet", "utf8mb4");

            // Reactions made before this release, folded as LogEvents folds them on each REACT.
            migrationBuilder.Sql(
                "UPDATE messages SET reactions = (SELECT GROUP_CONCAT(CONCAT(r.user_id, ':', r.emoji) ORDER BY r.ts, r.user_id SEPARATOR ' ') FROM reactions r WHERE r.conversation_id = messages.conversation_id AND r.seq = messages.seq) " +
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
