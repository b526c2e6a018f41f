using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using MySqlConnector;
using Npgsql;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// A fresh, empty database for one test (or fixture): which engine, and how to reach it. What a replica needs in
/// its configuration is <see cref="Settings"/>; a test that checks the rows itself uses <see cref="ScalarAsync"/>.
/// </summary>
/// <param name="Provider"><c>mysql</c>, <c>postgres</c> or <c>sqlite</c>, as <c>Chat:Store:Provider</c> spells it.</param>
public sealed record TestDatabase(string Provider, string ConnectionString)
{
    /// <summary>The engines every store test runs against.</summary>
    public static IReadOnlyList<string> Engines { get; } = ["mysql", "postgres", "sqlite"];

    /// <summary><see cref="Engines"/> as xunit member data.</summary>
    public static TheoryData<string> Providers => [.. Engines];

    /// <summary>The configuration keys that point a replica at this database.</summary>
    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["ConnectionStrings:Chat"] = ConnectionString,
        ["Chat:Store:Provider"] = Provider,
    };

    /// <summary>A new database on the engine named <paramref name="provider"/> (servers start on first use).</summary>
    public static async Task<TestDatabase> CreateAsync(string provider, string prefix) => provider switch
    {
        "mysql" => await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync(prefix),
        "postgres" => await (await PostgresServer.StartedAsync()).CreateDatabaseAsync(prefix),
        "sqlite" => Sqlite(prefix),
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "mysql, postgres or sqlite"),
    };

    /// <summary>A new SQLite file in a temp directory of its own, deleted after the test process exits.</summary>
    public static TestDatabase Sqlite(string prefix)
    {
        var directory = Path.Combine(Path.GetTempPath(), "chat-tests-sqlite-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        OrphanReaper.Register($"rm -rf {OrphanReaper.Quote(directory)}");
        return new TestDatabase("sqlite", new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, prefix + ".db") }.ConnectionString);
    }

    /// <summary>The engine's own client, not the server's code: what a test reads here is what is really stored.</summary>
    public DbConnection CreateConnection() => Provider switch
    {
        "mysql" => new MySqlConnection(ConnectionString),
        "postgres" => new NpgsqlConnection(ConnectionString),
        _ => new SqliteConnection(ConnectionString),
    };

    /// <summary>The first column of the first row of <paramref name="sql"/>, as a long.</summary>
    public async Task<long> ScalarAsync(string sql, params object[] parameters)
    {
        await using var connection = CreateConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < parameters.Length; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@p" + i.ToString(CultureInfo.InvariantCulture);
            parameter.Value = parameters[i];
            command.Parameters.Add(parameter);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public override string ToString() => $"{Provider}: {ConnectionString}";
}
