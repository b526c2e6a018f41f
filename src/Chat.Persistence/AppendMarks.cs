using System.Data.Common;
using System.Globalization;

namespace Chat.Persistence;

/// <summary>
/// The marks that tell whether a batch committed (<see cref="AppendMarkEntity"/>): every engine's append statement
/// inserts its batch's mark in the batch's own transaction and, every <see cref="Kept"/> batches, deletes the lane's
/// marks <see cref="Kept"/> or more batches older (a lane holds from <see cref="Kept"/> to twice as many). When the connection died with the COMMIT sent, the writer looks the mark up on a fresh connection: found,
/// the batch committed and is answered from it; absent, it did not, and is sent again. A transaction still
/// committing on the lost connection cannot slip past: the mark's primary key lets only one of the two commit.
/// </summary>
internal static class AppendMarks
{
    /// <summary>Marks each lane keeps at least; its older ones are deleted in one statement every this many batches.</summary>
    public const int Kept = 64;

    /// <summary>Marks of writers gone this long are deleted when a writer starts.</summary>
    public static readonly TimeSpan Abandoned = TimeSpan.FromHours(1);

    /// <summary>
    /// Answers <paramref name="batch"/> from its mark if it committed: its fresh messages with their seqs, the others
    /// (repeats of a stored cid) with the stored row. False if it did not commit.
    /// </summary>
    public static async Task<bool> TryAnswerAsync(DbConnection connection, AppendBatch batch, CancellationToken ct)
    {
        string? seqs;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT seqs FROM append_marks WHERE lane_id = @lane AND batch = @batch";
            Add(command, "@lane", batch.LaneId);
            Add(command, "@batch", batch.Number);
            seqs = await command.ExecuteScalarAsync(ct) as string;
        }

        if (seqs is null)
        {
            return false;
        }

        foreach (var pair in seqs.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            batch.Stored(
                int.Parse(pair.AsSpan(0, colon), CultureInfo.InvariantCulture) - 1,
                long.Parse(pair.AsSpan(colon + 1), CultureInfo.InvariantCulture));
        }

        for (var p = 0; p < batch.Count; p++)
        {
            if (!batch.Answered(p) && batch.ClientIds[p] is { } cid)
            {
                await AnswerRepeatAsync(connection, batch, p, cid, ct);
            }
        }

        return true;
    }

    /// <summary>Deletes the marks of writers that stopped long ago (a running lane deletes its own as it goes).</summary>
    public static async Task PruneAsync(DbConnection connection, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM append_marks WHERE created_at < @before";
        Add(command, "@before", (DateTimeOffset.UtcNow - Abandoned).ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task AnswerRepeatAsync(DbConnection connection, AppendBatch batch, int position, string cid, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT conversation_id, seq, sender_name, body, client_time, ts FROM messages
            WHERE sender_id = @sender AND client_id = @cid
            """;
        Add(command, "@sender", batch.Senders[position]);
        Add(command, "@cid", cid);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (await reader.ReadAsync(ct))
        {
            batch.Repeat(position, reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5));
        }
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
