using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using MySqlConnector;

namespace Chat.Persistence;

/// <summary>
/// MySQL or MariaDB, through Pomelo (EF) and MySqlConnector (the writers). Durable with the server's
/// <c>innodb_flush_log_at_trx_commit=1</c> (its default; scripts/cluster.sh and compose set it explicitly).
/// Text is utf8mb4 with a binary collation: every Unicode character is stored, and names are unique exactly as typed.
/// </summary>
internal sealed class MySqlProvider(string connectionString, string serverVersion) : DatabaseProvider
{
    private const string MigrationLock = "chat_migrations";

    private static readonly RowsDialect Dialect = new(
        IsolationLevel.ReadCommitted,
        AddToLastSeq: "ON DUPLICATE KEY UPDATE last_seq = last_seq + VALUES(last_seq)",
        IgnoreExisting: "ON DUPLICATE KEY UPDATE user_id = user_id",
        UpdateCursorsFrom: """
            UPDATE cursors AS c JOIN ({0}) AS v ON c.user_id = v.user_id AND c.conversation_id = v.conversation_id
            SET c.{1} = v.seq WHERE c.{1} < v.seq
            """,
        // Parameters are spelled into the statement text by MySqlConnector. A message row has 4 (its texts), so a command
        // holds at most 512 rows: at 4,096 UTF-16 characters (at most 12 KiB of UTF-8, escapes included) about 6 MiB,
        // below the server's max_allowed_packet (16 MiB by default).
        MaxParameters: 2_048,
        // MySqlConnector sends a multi-statement command as one packet: BEGIN and COMMIT ride on the batch's commands.
        BeginInText: "START TRANSACTION")
    {
        Events = LogEvents.MySql,
        SessionInText = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    };

    private readonly MySqlDataSource _dataSource = new(connectionString);
    private readonly ServerVersion _serverVersion = ServerVersion.Parse(serverVersion);

    /// <summary>MariaDB 10.5 and later return the upsert's rows (Chat:Store:MySqlServerVersion says which server it is).</summary>
    private RowsDialect AppendDialect => Dialect with
    {
        Returning = _serverVersion.Type == Pomelo.EntityFrameworkCore.MySql.Infrastructure.ServerType.MariaDb && _serverVersion.Version >= new Version(10, 5),
    };

    public override string Name => "mysql";

    public override DbDataSource DataSource => _dataSource;

    internal static void Configure(DbContextOptionsBuilder options, string connectionString, ServerVersion serverVersion)
    {
        options.UseMySql(connectionString, serverVersion);
        ConfigureCommon(options);
    }

    internal override void Configure(DbContextOptionsBuilder options) => Configure(options, connectionString, _serverVersion);

    internal override IQueryable<MessageEntity> MessagesAfter(ChatDbContext db, long[] conversations, long[] afterSeqs) =>
        MessagesAfterEach(db, conversations, afterSeqs);

    internal override bool IsUniqueViolation(Exception ex) =>
        Find<MySqlException>(ex) is { ErrorCode: MySqlErrorCode.DuplicateKeyEntry };

    internal override bool IsUnreachable(Exception ex) =>
        Find<System.Net.Sockets.SocketException>(ex) is not null
        || Find<MySqlException>(ex) is { } e
            && (e.IsTransient || e.ErrorCode is MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.UnknownDatabase);

    internal override bool IsRetryable(Exception ex) => ex is MySqlException
    {
        ErrorCode: MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout or MySqlErrorCode.DuplicateKeyEntry,
    };

    /// <summary>
    /// Also a Galera node that is not part of the primary component (1047, "WSREP has not yet prepared node for
    /// application use") or is shutting down: the next node of the connection string serves.
    /// </summary>
    internal override bool IsConnectionLost(Exception ex, DbConnection connection) =>
        base.IsConnectionLost(ex, connection)
        || Find<MySqlException>(ex) is { ErrorCode: MySqlErrorCode.UnknownCommand or MySqlErrorCode.ServerShutdown or MariaDbConnectionKilled };

    /// <summary>ER_CONNECTION_KILLED: MariaDB's answer on a connection it closes as it shuts down.</summary>
    private const MySqlErrorCode MariaDbConnectionKilled = (MySqlErrorCode)1927;

    internal override IAppendStatement CreateAppendStatement() => new RowsAppendStatement(AppendDialect);

    internal override Task WriteCursorsAsync(DbConnection connection, MarkColumn column, CursorColumns cursors, CancellationToken ct) =>
        RowsCursorStatement.WriteAsync(Dialect, column, connection, cursors, ct);

    internal override async Task AcquireMigrationLockAsync(DbConnection connection, CancellationToken ct)
    {
        if (await LockAsync(connection, "SELECT GET_LOCK(@name, 300)", ct) != 1)
        {
            throw new TimeoutException("Another replica held the migration lock for 300 s.");
        }
    }

    internal override Task ReleaseMigrationLockAsync(DbConnection connection) =>
        LockAsync(connection, "SELECT RELEASE_LOCK(@name)", CancellationToken.None);

    private static async Task<long> LockAsync(DbConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        AddParameter(command, MigrationLock, "@name");
        // NULL: an error (GET_LOCK) or no such lock held (RELEASE_LOCK).
        return await command.ExecuteScalarAsync(ct) is { } result and not DBNull
            ? Convert.ToInt64(result, System.Globalization.CultureInfo.InvariantCulture)
            : 0;
    }
}

public sealed class MySqlChatDbContext(DbContextOptions<MySqlChatDbContext> options) : ChatDbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // utf8mb4: all of Unicode (MySQL's "utf8" stops at three bytes). Binary collation: 'Bob' and 'bob' are two
        // names. (It pads with spaces when comparing, which is why names may not end with white space, and cids
        // are refused with trailing spaces: MessageWriter.)
        modelBuilder.HasCharSet("utf8mb4", DelegationModes.ApplyToAll);
        modelBuilder.UseCollation("utf8mb4_bin", DelegationModes.ApplyToAll);
    }
}

/// <summary>For <c>dotnet ef migrations add NAME --context MySqlChatDbContext --output-dir Migrations/MySql</c>.</summary>
internal sealed class MySqlDesignTimeFactory : IDesignTimeDbContextFactory<MySqlChatDbContext>
{
    public MySqlChatDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<MySqlChatDbContext>();
        MySqlProvider.Configure(options, "Server=localhost;Database=chat_design", ServerVersion.Parse(new StoreOptions().MySqlServerVersion));
        return new MySqlChatDbContext(options.Options);
    }
}
