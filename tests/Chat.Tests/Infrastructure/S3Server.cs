namespace Chat.Tests.Infrastructure;

/// <summary>
/// A throwaway S3-compatible server (s3rver, from the npm registry: scripts/test.sh installs it into .test-tools/) on
/// its own loopback port, its objects in a temporary directory. Credentials are s3rver's: S3RVER / S3RVER.
/// </summary>
public sealed class S3Server : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly DirectoryInfo _data;

    private S3Server(ChildProcess process, DirectoryInfo data, int port)
    {
        _process = process;
        _data = data;
        Port = port;
    }

    public int Port { get; }

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>The replica settings that put its files in this server's <paramref name="bucket"/>.</summary>
    public Dictionary<string, string?> Settings(string bucket) => new()
    {
        ["Chat:Files:Store"] = "s3",
        ["Chat:Files:S3:ServiceUrl"] = ServiceUrl,
        ["Chat:Files:S3:Bucket"] = bucket,
        ["Chat:Files:S3:AccessKey"] = "S3RVER",
        ["Chat:Files:S3:SecretKey"] = "S3RVER",
    };

    public static async Task<S3Server> StartNewAsync()
    {
        var binary = Environment.GetEnvironmentVariable("CHAT_TEST_S3RVER") is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepositoryRoot(), ".test-tools", "node_modules", ".bin", "s3rver");
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException($"s3rver is not installed at {binary}: scripts/test.sh installs it (npm install --prefix .test-tools s3rver@3.7.1)");
        }

        var data = Directory.CreateTempSubdirectory("chat-s3rver-");
        var port = FreePort.Next();
        var process = ChildProcess.Start(binary, ["-d", data.FullName, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-s"], data.FullName, orphanCleanup: pid => $"kill -KILL {pid}");
        var server = new S3Server(process, data, port);
        try
        {
            await Wait.UntilAsync(() => LoopbackTcp.CanConnectAsync(port), TimeSpan.FromSeconds(30), "s3rver to listen");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        try
        {
            _data.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Left in the temporary directory.
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Chat.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("no Chat.sln above " + AppContext.BaseDirectory);
    }
}
