using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Infrastructure;

/// <summary>One log entry as written: its formatted text, structured values and exception.</summary>
public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, string State, Exception? Exception)
{
    public override string ToString() => $"{Level} {Category}[{EventId.Id}]: {Message}{(Exception is null ? "" : " " + Exception)}";
}

/// <summary>An <see cref="ILoggerProvider"/> that keeps every entry, at every level, for assertions.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    public IEnumerable<LogEntry> AtLeast(LogLevel level) => _entries.Where(e => e.Level >= level);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}"))
                : state?.ToString() ?? "";
            entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), values, exception));
        }
    }
}
