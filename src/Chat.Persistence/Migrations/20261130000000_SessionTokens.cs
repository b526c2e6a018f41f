using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Chat.Persistence.Migrations;

/// <summary>Session tokens (their SHA-256 only), so a reconnecting client logs in without a password check.</summary>
[DbContext(typeof(ChatDbContext))]
[Migration("20261130000000_SessionTokens")]
public sealed class SessionTokens : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "session_tokens",
            columns: t => new
            {
                TokenHash = t.Column<string>(name: "token_hash", maxLength: 64),
                UserId = t.Column<int>(name: "user_id"),
                ExpiresAt = t.Column<DateTimeOffset>(name: "expires_at"),
            },
            constraints: t =>
            {
                t.PrimaryKey("pk_session_tokens", x => x.TokenHash);
                t.ForeignKey("fk_session_tokens_user_id", x => x.UserId, "users", "id", onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex(name: "ix_session_tokens_user_id", table: "session_tokens", column: "user_id");
    }

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropTable(name: "session_tokens");
}
