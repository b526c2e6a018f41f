using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Chat.Persistence;

/// <summary>
/// A local SQLite file: one node, nothing to install. Every connection runs in WAL mode with
/// <c>synchronous=FULL</c>, so a commit is on disk before it returns, as with the server databases.
/// </summary>
internal sealed class SqliteProvider(string connectionString) : DatabaseProvider
{
    /// <summary>Where the file goes when nothing is configured: the working directory.</summary>
    public const string DefaultConnectionString = "Data Source=chat.db";

    private const string DurableSql = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";

    private static readonly RowsDialect Dialect = new(
        IsolationLevel.Serializable, // BEGIN IMMEDIATE: the write lock is taken up front, never upgraded
        AddToLastSeq: "ON CONFLICT (id) DO UPDATE SET last_seq = last_seq + excluded.last_seq",
        IgnoreExisting: "ON CONFLICT DO NOTHING",
        UpdateCursorsFrom: """
            UPDATE cursors SET {1} = v.seq FROM ({0}) AS v
            WHERE cursors.user_id = v.user_id AND cursors.conversation_id = v.conversation_id AND cursors.{1} < v.seq
            """,
        MaxParameters: 32_000) // SQLITE_MAX_VARIABLE_NUMBER is 32,766
    {
        Returning = true,
    };

    private readonly DbDataSource _dataSource = SqliteFactory.Instance.CreateDataSource(connectionString);

    public override string Name => "sqlite";

    public override DbDataSource DataSource => _dataSource;

    public override bool SingleNode => true;

    protected override string? SessionSql => DurableSql;

    internal static void Configure(DbContextOptionsBuilder options, string connectionString)
    {
        options.UseSqlite(connectionString).AddInterceptors(DurableConnections.Instance);
        ConfigureCommon(options);
    }

    internal override void Configure(DbContextOptionsBuilder options) => Configure(options, connectionString);

    internal override IQueryable<MessageEntity> MessagesAfter(ChatDbContext db, long[] conversations, long[] afterSeqs) =>
        MessagesAfterEach(db, conversations, afterSeqs);

    internal override bool IsUniqueViolation(Exception ex) =>
        Find<SqliteException>(ex) is { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 }; // CONSTRAINT_UNIQUE, _PRIMARYKEY

    internal override bool IsUnreachable(Exception ex) =>
        Find<SqliteException>(ex) is { SqliteErrorCode: 5 or 6 }; // BUSY, LOCKED

    internal override bool IsRetryable(Exception ex) => IsUnreachable(ex) || IsUniqueViolation(ex);

    internal override IAppendStatement CreateAppendStatement() => new RowsAppendStatement(Dialect);

    internal override Task WriteCursorsAsync(DbConnection connection, MarkColumn column, CursorColumns cursors, CancellationToken ct) =>
        RowsCursorStatement.WriteAsync(Dialect, column, connection, cursors, ct);

    /// <summary>Makes EF's connections as durable as the writers'.</summary>
    private sealed class DurableConnections : DbConnectionInterceptor
    {
        public static readonly DurableConnections Instance = new();

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
        {
            using var command = connection.CreateCommand();
            command.CommandText = DurableSql;
            command.ExecuteNonQuery();
        }

        public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default) =>
            await ExecuteAsync(connection, DurableSql, cancellationToken);
    }
}

public sealed class SqliteChatDbContext(DbContextOptions<SqliteChatDbContext> options) : ChatDbContext(options);

/// <summary>For <c>dotnet ef migrations add NAME --context SqliteChatDbContext --output-dir Migrations/Sqlite</c>.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteChatDbContext>
{
    public SqliteChatDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<SqliteChatDbContext>();
        SqliteProvider.Configure(options, SqliteProvider.DefaultConnectionString);
        return new SqliteChatDbContext(options.Options);
    }
}
