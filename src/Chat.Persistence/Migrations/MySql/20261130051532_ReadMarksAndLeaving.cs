using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Chat.Persistence.Migrations.MySql
{
    /// <inheritdoc />
    public partial class ReadMarksAndLeaving : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "joined_at",
                table: "group_members",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "read_seq",
                table: "cursors",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            // Before read marks existed, what had been delivered counts as read: no flood of old unread messages.
            migrationBuilder.Sql("UPDATE cursors SET read_seq = delivered_seq");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "joined_at",
                table: "group_members");

            migrationBuilder.DropColumn(
                name: "read_seq",
                table: "cursors");
        }
    }
}
