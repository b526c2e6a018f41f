using BenchmarkDotNet.Attributes;
using Chat.Domain;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Chat.Benchmarks;

/// <summary>
/// The CPU a LOGIN's credential check costs the replica: PBKDF2 (<see cref="PasswordHasher{TUser}"/>, at the default
/// 100,000 iterations and at the 10,000 the tests and the bench use) against a session token (SHA-256 of it, then an
/// indexed read by that hash, which is the database's work and not counted here).
/// </summary>
[MemoryDiagnoser]
public class LoginCheckBenchmarks
{
    private const string Password = "correct horse battery staple";
    private static readonly UserAccount Account = new(7, "alice", "");
    private readonly PasswordHasher<UserAccount> _default = Hasher(100_000);
    private readonly PasswordHasher<UserAccount> _tests = Hasher(10_000);
    private string _defaultHash = "";
    private string _testsHash = "";
    private string _token = "";

    [GlobalSetup]
    public void Setup()
    {
        _defaultHash = _default.HashPassword(Account, Password);
        _testsHash = _tests.HashPassword(Account, Password);
        _token = SessionToken.New();
    }

    [Benchmark]
    public PasswordVerificationResult Password100k() => _default.VerifyHashedPassword(Account, _defaultHash, Password);

    [Benchmark]
    public PasswordVerificationResult Password10k() => _tests.VerifyHashedPassword(Account, _testsHash, Password);

    [Benchmark(Baseline = true)]
    public string Token() => SessionToken.Hash(_token);

    private static PasswordHasher<UserAccount> Hasher(int iterations) =>
        new(Options.Create(new PasswordHasherOptions { IterationCount = iterations }));
}
