using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Chat.Persistence.Migrations;

/// <summary>
/// A group remembers its creator and the cid it was created with, so a CREATE_GROUP resent after a lost ACK (for
/// example from a client that reconnected) is answered with the group it created instead of "name taken".
/// </summary>
[DbContext(typeof(ChatDbContext))]
[Migration("20261121110000_GroupClientId")]
public sealed class GroupClientId : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<int>(name: "creator_id", table: "groups", nullable: true);
        migrationBuilder.AddColumn<string>(name: "client_id", table: "groups", maxLength: 64, nullable: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropColumn(name: "client_id", table: "groups");
        migrationBuilder.DropColumn(name: "creator_id", table: "groups");
    }
}
