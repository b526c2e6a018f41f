using Chat.Bench;

return args switch
{
    ["writer", .. var rest] => await WriterBench.RunAsync(BenchArgs.Parse(rest)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Chat.Bench writer --db CONNECTION_STRING [--senders 50] [--seconds 10] [--warmup 2] [--json]
          writer   the batching message writer alone: N concurrent senders, each appending to its own
                   one-to-one conversation and waiting for the commit before the next message (closed loop).
        """);
    return 2;
}
