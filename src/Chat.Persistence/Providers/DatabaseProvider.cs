using System.Data.Common;
using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Chat.Persistence;

/// <summary>
/// Everything that differs between database engines, in one place per engine: how EF and the writers connect,
/// the writers' statements, which errors mean "try again", and how replicas that start together take turns
/// migrating. The EF model, <see cref="ChatStore"/>, <see cref="MessageWriter"/> and <see cref="CursorWriter"/>
/// are the same for all of them.
/// </summary>
public abstract class DatabaseProvider : IAsyncDisposable
{
    /// <summary><c>mysql</c>, <c>postgres</c> or <c>sqlite</c>: as configured, and as <c>/readyz</c> names the database.</summary>
    public abstract string Name { get; }

    /// <summary>Connections for the writers (EF opens its own from the same connection string).</summary>
    public abstract DbDataSource DataSource { get; }

    /// <summary>A single file cannot be shared by replicas.</summary>
    public virtual bool SingleNode => false;

    /// <summary>EF on this engine.</summary>
    internal abstract void Configure(DbContextOptionsBuilder options);

    /// <summary>Messages of each listed conversation after the seq listed with it.</summary>
    internal abstract IQueryable<MessageEntity> MessagesAfter(ChatDbContext db, long[] conversations, long[] afterSeqs);

    /// <summary>A unique constraint refused a row: an answer here (name taken, already a member), not an error.</summary>
    internal abstract bool IsUniqueViolation(Exception ex);

    /// <summary>The database cannot be reached (yet): worth trying again in a moment.</summary>
    internal abstract bool IsUnreachable(Exception ex);

    /// <summary>
    /// A batch was rolled back whole by a conflict with another writer (deadlock, serialisation failure, a cid
    /// another replica stored meanwhile): running it again sees the winner's rows.
    /// </summary>
    internal abstract bool IsRetryable(Exception ex);

    /// <summary>
    /// The connection is lost or its server cannot serve (a Galera node that left the cluster): a writer reconnects,
    /// to the next server when the connection string names several, and learns whether its last commit went through.
    /// </summary>
    internal virtual bool IsConnectionLost(Exception ex, DbConnection connection) =>
        connection.State != System.Data.ConnectionState.Open || IsUnreachable(ex) || Find<IOException>(ex) is not null;

    /// <summary>The writer's statement: one instance per writer lane, used by that lane only.</summary>
    internal abstract IAppendStatement CreateAppendStatement();

    /// <summary>Moves <paramref name="column"/> of each listed cursor forward to its seq (never back); cursors that do not exist stay absent.</summary>
    internal abstract Task WriteCursorsAsync(DbConnection connection, MarkColumn column, CursorColumns cursors, CancellationToken ct);

    /// <summary>
    /// Serialises migrations across replicas starting at once, on the connection the migrator then uses, so the
    /// history table's creation is covered too. Released by <see cref="ReleaseMigrationLockAsync"/> or when the
    /// session ends.
    /// </summary>
    internal virtual Task AcquireMigrationLockAsync(DbConnection connection, CancellationToken ct) => Task.CompletedTask;

    internal virtual Task ReleaseMigrationLockAsync(DbConnection connection) => Task.CompletedTask;

    /// <summary>A connection for a writer, with the session settings that make each commit durable.</summary>
    internal async Task<DbConnection> OpenConnectionAsync(CancellationToken ct)
    {
        var connection = await DataSource.OpenConnectionAsync(ct);
        if (SessionSql is { } sql)
        {
            try
            {
                await ExecuteAsync(connection, sql, ct);
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }

        return connection;
    }

    public virtual async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Run on every connection a writer opens.</summary>
    protected virtual string? SessionSql => null;

    /// <summary>The EF settings every engine shares.</summary>
    protected static void ConfigureCommon(DbContextOptionsBuilder options) =>
        options.ConfigureWarnings(w => w.Ignore(
            // A unique violation is an answer here (name taken, already a member), not an error; real failures reach
            // the request's own error handling, which logs them once.
            RelationalEventId.CommandError,
            CoreEventId.SaveChangesFailed,
            // EF builds its internal services once per data source, which is one per host: a process that hosts
            // many replicas (the tests) passes twenty, a replica never does.
            CoreEventId.ManyServiceProvidersCreatedWarning));

    protected static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken ct, params object[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var value in parameters)
        {
            AddParameter(command, value);
        }

        await command.ExecuteNonQueryAsync(ct);
    }

    protected static void AddParameter(DbCommand command, object? value, string? name = null)
    {
        var parameter = command.CreateParameter();
        if (name is not null)
        {
            parameter.ParameterName = name;
        }

        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    /// <summary>
    /// <see cref="MessagesAfter"/> for engines without arrays: <c>(conversation_id = @c1 AND seq &gt; @s1) OR ...</c>,
    /// one primary-key range per conversation, with the values as parameters.
    /// </summary>
    protected static IQueryable<MessageEntity> MessagesAfterEach(ChatDbContext db, long[] conversations, long[] afterSeqs)
    {
        var m = Expression.Parameter(typeof(MessageEntity), "m");
        Expression? any = null;
        for (var i = 0; i < conversations.Length; i++)
        {
            var range = Expression.AndAlso(
                Expression.Equal(Expression.Property(m, nameof(MessageEntity.ConversationId)), Parameter(conversations[i])),
                Expression.GreaterThan(Expression.Property(m, nameof(MessageEntity.Seq)), Parameter(afterSeqs[i])));
            any = any is null ? range : Expression.OrElse(any, range);
        }

        return db.Messages.Where(Expression.Lambda<Func<MessageEntity, bool>>(any ?? Expression.Constant(false), m));

        // A captured variable, as a lambda closure would make it: EF sends it as a parameter, not as a literal.
        static Expression Parameter(long value) => Expression.Field(Expression.Constant(new StrongBox<long>(value)), nameof(StrongBox<long>.Value));
    }

    /// <summary>The first exception of type <typeparamref name="T"/> in the chain, if any.</summary>
    protected static T? Find<T>(Exception? ex)
        where T : Exception
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }
}
