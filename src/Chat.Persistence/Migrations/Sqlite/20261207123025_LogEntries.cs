using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Chat.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class LogEntries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "edited_ts",
                table: "messages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<short>(
                name: "kind",
                table: "messages",
                type: "INTEGER",
                nullable: false,
                defaultValue: (short)0);

            migrationBuilder.AddColumn<bool>(
                name: "recalled",
                table: "messages",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<long>(
                name: "ref_seq",
                table: "messages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "reply_seq",
                table: "messages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "reactions",
                columns: table => new
                {
                    conversation_id = table.Column<long>(type: "INTEGER", nullable: false),
                    seq = table.Column<long>(type: "INTEGER", nullable: false),
                    user_id = table.Column<int>(type: "INTEGER", nullable: false),
                    emoji = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ts = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_reactions", x => new { x.conversation_id, x.seq, x.user_id, x.emoji });
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "reactions");

            migrationBuilder.DropColumn(
                name: "edited_ts",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "kind",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "recalled",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "ref_seq",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "reply_seq",
                table: "messages");
        }
    }
}
