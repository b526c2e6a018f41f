namespace Chat.Tests.Infrastructure;

/// <summary>The repository the tests were built from.</summary>
public static class Repository
{
    /// <summary>The folder holding Chat.sln, found above the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Chat.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Chat.sln not found above the test binaries");
        }

        return root;
    }
}
