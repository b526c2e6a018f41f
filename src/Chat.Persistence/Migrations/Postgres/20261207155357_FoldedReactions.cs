using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Chat.Persistence.Migrations.Postgres
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
                type: "text",
                nullable: true);

            // Reactions made before this release, folded as LogEvents folds them on each REACT.
            migrationBuilder.Sql(
                "UPDATE messages SET reactions = (SELECT string_agg(r.user_id || ':' || r.emoji, ' ' ORDER BY r.ts, r.user_id) FROM reactions r WHERE r.conversation_id = messages.conversation_id AND r.seq = messages.seq) " +
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
