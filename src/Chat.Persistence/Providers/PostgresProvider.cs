using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Chat.Persistence;

/// <summary>PostgreSQL: the writer's batch is one statement over arrays. Durable with the server's default <c>synchronous_commit=on</c>.</summary>
internal sealed class PostgresProvider(string connectionString, ILoggerFactory? loggers) : DatabaseProvider
{
    // Any constant will do, as long as nothing else in the database uses it for pg_advisory_lock.
    private const long MigrationLockKey = 0x43_68_61_74_4D_69_67; // "ChatMig"

    private static string CursorSql(MarkColumn column) => $"""
        UPDATE cursors AS c
        SET {column.Name} = GREATEST(c.{column.Name}, v.seq)
        FROM unnest($1::int[], $2::bigint[], $3::bigint[]) AS v(user_id, conversation_id, seq)
        WHERE c.user_id = v.user_id AND c.conversation_id = v.conversation_id AND c.{column.Name} < v.seq
        """;

    private readonly NpgsqlDataSource _dataSource = new NpgsqlDataSourceBuilder(connectionString).UseLoggerFactory(loggers).Build();

    public override string Name => "postgres";

    public override DbDataSource DataSource => _dataSource;

    /// <summary>The EF options, at run time and for dotnet-ef.</summary>
    internal static void Configure(DbContextOptionsBuilder options, NpgsqlDataSource dataSource)
    {
        options.UseNpgsql(dataSource);
        ConfigureCommon(options);
    }

    internal override void Configure(DbContextOptionsBuilder options) => Configure(options, _dataSource);

    internal override IQueryable<MessageEntity> MessagesAfter(ChatDbContext db, long[] conversations, long[] afterSeqs) =>
        db.Messages.FromSql($"""
            SELECT m.* FROM unnest({conversations}, {afterSeqs}) AS r(conversation_id, after_seq)
            JOIN messages AS m ON m.conversation_id = r.conversation_id AND m.seq > r.after_seq
            """);

    internal override bool IsUniqueViolation(Exception ex) =>
        Find<PostgresException>(ex) is { SqlState: PostgresErrorCodes.UniqueViolation };

    internal override bool IsUnreachable(Exception ex)
    {
        for (var e = (Exception?)ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // Still starting, shutting down, too many connections; the database is being created by a script.
                case PostgresException pg:
                    return pg.IsTransient || pg.SqlState == PostgresErrorCodes.InvalidCatalogName;
                case NpgsqlException { IsTransient: true }:
                case System.Net.Sockets.SocketException:
                    return true;
            }
        }

        return false;
    }

    internal override bool IsRetryable(Exception ex) => ex is PostgresException
    {
        SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.UniqueViolation,
    };

    internal override IAppendStatement CreateAppendStatement() => new PostgresAppendStatement();

    internal override async Task WriteCursorsAsync(DbConnection connection, MarkColumn column, CursorColumns cursors, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(CursorSql(column), (NpgsqlConnection)connection)
        {
            Parameters =
            {
                new NpgsqlParameter<List<int>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, TypedValue = cursors.Users },
                new NpgsqlParameter<List<long>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, TypedValue = cursors.Conversations },
                new NpgsqlParameter<List<long>> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, TypedValue = cursors.Seqs },
            },
        };
        await command.ExecuteNonQueryAsync(ct);
    }

    internal override Task AcquireMigrationLockAsync(DbConnection connection, CancellationToken ct) =>
        ExecuteAsync(connection, "SELECT pg_advisory_lock($1)", ct, MigrationLockKey);

    internal override Task ReleaseMigrationLockAsync(DbConnection connection) =>
        ExecuteAsync(connection, "SELECT pg_advisory_unlock($1)", CancellationToken.None, MigrationLockKey);
}

public sealed class PostgresChatDbContext(DbContextOptions<PostgresChatDbContext> options) : ChatDbContext(options);

/// <summary>For <c>dotnet ef migrations add NAME --context PostgresChatDbContext --output-dir Migrations/Postgres</c>.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresChatDbContext>
{
    public PostgresChatDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PostgresChatDbContext>();
        PostgresProvider.Configure(options, NpgsqlDataSource.Create("Host=localhost;Database=chat_design"));
        return new PostgresChatDbContext(options.Options);
    }
}
