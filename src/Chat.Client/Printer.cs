namespace Chat.Client;

/// <summary>Writes whole lines, flushed at once, from whichever task has something to say.</summary>
public sealed class Printer(TextWriter output)
{
    private readonly Lock _gate = new();

    public void Line(string line)
    {
        lock (_gate)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    public void Lines(IEnumerable<string> lines)
    {
        lock (_gate)
        {
            foreach (var line in lines)
            {
                output.WriteLine(line);
            }

            output.Flush();
        }
    }
}
