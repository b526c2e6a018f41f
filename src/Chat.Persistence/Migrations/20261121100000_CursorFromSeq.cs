using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Chat.Persistence.Migrations;

/// <summary>
/// Resume by seq lets a client ask for a conversation from any seq, so each cursor remembers where the user's
/// reading may start: 0 for one-to-one conversations, the group's end at the time they joined for groups.
/// Rows from before this migration only know how far they were delivered, so that is where they start.
/// </summary>
[DbContext(typeof(ChatDbContext))]
[Migration("20261121100000_CursorFromSeq")]
public sealed class CursorFromSeq : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<long>(name: "from_seq", table: "cursors", nullable: false, defaultValue: 0L);
        migrationBuilder.Sql("UPDATE cursors SET from_seq = delivered_seq WHERE conversation_id > 0");
    }

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.DropColumn(name: "from_seq", table: "cursors");
}
