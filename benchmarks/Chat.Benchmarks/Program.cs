using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/Chat.Benchmarks -- --filter '*'   (benchmarks/README.md)
BenchmarkSwitcher.FromAssembly(typeof(Chat.Benchmarks.WriterBenchmarks).Assembly).Run(args);
