using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;

namespace Chat.Server.Sessions;

/// <summary>
/// Where passwords are hashed and checked (PBKDF2, tens of milliseconds of CPU each): a few dedicated threads at a
/// lower CPU priority (Linux: nice 10) behind a bounded queue, never the shared thread pool that the connections and
/// the database continuations need. A check whose queue is full is refused at once (errno 10); a check whose client
/// has gone by the time a worker reaches it is dropped unhashed. So a login storm costs at most
/// <see cref="LoginOptions.PasswordWorkers"/> cores, at a priority below the chat's, and never work nobody waits for.
/// </summary>
public sealed class PasswordWork : IDisposable
{
    private const int Nice = 10;
    private readonly BlockingCollection<Job> _queue;
    private readonly Thread[] _workers;
    private long _dropped;

    public PasswordWork(IOptions<LoginOptions> options, ILogger<PasswordWork> log)
    {
        var settings = options.Value;
        _queue = new BlockingCollection<Job>(new ConcurrentQueue<Job>(), settings.PasswordQueue);
        var count = settings.PasswordWorkers > 0 ? settings.PasswordWorkers : Math.Max(1, Environment.ProcessorCount / 2);
        _workers = [.. Enumerable.Range(0, count).Select(i => new Thread(() => Run(log)) { IsBackground = true, Name = $"chat-password-{i}" })];
        foreach (var worker in _workers)
        {
            worker.Start();
        }
    }

    /// <summary>The queue has no room: a new check would be refused.</summary>
    public bool Full => _queue.Count >= _queue.BoundedCapacity;

    /// <summary>Checks waiting for a worker.</summary>
    public int Queued => _queue.Count;

    /// <summary>Checks dropped because their client had gone before a worker reached them.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Queues <paramref name="work"/>; null when the queue is full. The task is cancelled, without running the work, when
    /// <paramref name="abandoned"/> says its client has gone by the time a worker reaches it.
    /// </summary>
    public Task<T>? TryRun<T>(Func<T> work, Func<bool> abandoned)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var job = new Job(
            () =>
            {
                if (abandoned())
                {
                    Interlocked.Increment(ref _dropped);
                    done.TrySetCanceled();
                    return;
                }

                try
                {
                    done.TrySetResult(work());
                }
                catch (Exception ex)
                {
                    done.TrySetException(ex);
                }
            },
            () => done.TrySetCanceled());
        try
        {
            return _queue.TryAdd(job) ? done.Task : null;
        }
        catch (InvalidOperationException)
        {
            return null; // stopping
        }
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var job in _queue)
        {
            job.Cancel();
        }
    }

    private void Run(ILogger log)
    {
        LowerPriority(log);
        foreach (var job in _queue.GetConsumingEnumerable())
        {
            job.Execute();
        }
    }

    /// <summary>Linux applies nice per thread: this one yields the CPU to the connection and database threads.</summary>
    private static void LowerPriority(ILogger log)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            if (NativeMethods.setpriority(0 /* PRIO_PROCESS: a thread id on Linux */, NativeMethods.gettid(), Nice) != 0)
            {
                ServerLog.PasswordPriorityUnchanged(log, Marshal.GetLastPInvokeError());
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            ServerLog.PasswordPriorityUnchanged(log, -1);
        }
    }

    private sealed record Job(Action Execute, Action Cancel);

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int setpriority(int which, int who, int prio);

        [DllImport("libc")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int gettid();
    }
}
