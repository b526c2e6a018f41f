using System.ComponentModel.DataAnnotations;

namespace Chat.Server.Sessions;

/// <summary>Logins and registrations: password hashing, session tokens, what LOGIN_ACK carries, attempt limits (section <c>Chat</c>, or <c>Chat:Login</c>).</summary>
public sealed class LoginOptions
{
    /// <summary>Read after <c>Chat</c>, so <c>Chat:Login:TokenLifetime</c> and <c>Chat:TokenLifetime</c> both work (the former wins).</summary>
    public const string Section = "Chat:Login";

    /// <summary>At most this many offline messages come in one LOGIN_ACK; the rest at the next login.</summary>
    [Range(1, 1_000_000)]
    public int MaxOfflineMessages { get; set; } = 10_000;

    /// <summary>How long a session token (in a v2 LOGIN_ACK) logs its user in (<c>Chat:Login:TokenLifetime</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Shortest password a new account may have (<c>Chat:Login:MinPasswordLength</c>); REG with a shorter one gets errno 1
    /// saying so. Only registrations are checked: accounts made under a shorter rule keep logging in.
    /// </summary>
    [Range(1, 128)]
    public int MinPasswordLength { get; set; } = 8;

    /// <summary>PBKDF2 iterations for new password hashes.</summary>
    [Range(10_000, 10_000_000)]
    public int PasswordIterations { get; set; } = 100_000;

    /// <summary>Failed LOGIN/REG attempts one connection may make; the next gets errno 11 and a close.</summary>
    [Range(1, 1_000_000)]
    public int LoginFailuresPerConnection { get; set; } = 5;

    /// <summary>Failed LOGINs and REGs one client address may make in a burst before it gets errno 11.</summary>
    [Range(1, 1_000_000)]
    public int LoginAttemptsPerAddress { get; set; } = 20;

    /// <summary>An address gets one attempt back per this interval, up to <see cref="LoginAttemptsPerAddress"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan LoginAttemptRefill { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>REGs (successful or not) one client address may make in a burst before it gets errno 11.</summary>
    [Range(1, 1_000_000)]
    public int RegistrationsPerAddress { get; set; } = 5;

    /// <summary>An address gets one registration back per this interval, up to <see cref="RegistrationsPerAddress"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan RegistrationRefill { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>LOGINs with a password (right or wrong) one client address may make in a burst before it gets errno 11.</summary>
    [Range(1, 1_000_000)]
    public int PasswordLoginsPerAddress { get; set; } = 20;

    /// <summary>An address gets one password login back per this interval, up to <see cref="PasswordLoginsPerAddress"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan PasswordLoginRefill { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A LOGIN or REG refused by an address budget is answered (errno 11) after this; the connection waits meanwhile.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ThrottledReplyDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Threads that hash and check passwords (REG and password LOGIN), at a lower CPU priority than the rest; 0: half
    /// the cores, at least one. The rest of the cores stay with the chat.
    /// </summary>
    [Range(0, 256)]
    public int PasswordWorkers { get; set; }

    /// <summary>Password checks waiting for a worker at most; beyond it a LOGIN or REG gets errno 10 at once.</summary>
    [Range(1, 100_000)]
    public int PasswordQueue { get; set; } = 32;

    /// <summary>Logins being set up at once (after their credentials are checked): the claim and the database reads of LOGIN_ACK.</summary>
    [Range(1, 10_000)]
    public int MaxConcurrentLogins { get; set; } = 8;

    /// <summary>Logins waiting for one of <see cref="MaxConcurrentLogins"/> at most; beyond it a LOGIN gets errno 10 at once.</summary>
    [Range(0, 1_000_000)]
    public int LoginQueue { get; set; } = 1000;

    /// <summary>Addresses whose attempts are tracked at once; beyond it, new addresses go untracked until entries expire.</summary>
    [Range(1, 10_000_000)]
    public int MaxTrackedAddresses { get; set; } = 100_000;

    /// <summary>
    /// Largest LOGIN_ACK, in bytes: offline messages fill it up to this (and to half the outgoing budget); the rest
    /// follow right after as ordinary chat frames, paced as the client reads. A v2 LOGIN_ACK then says <c>"more":true</c>.
    /// </summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxLoginAckBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// A user's sessions at once (<c>Chat:Login:Multiple</c>): <c>reject</c> a second login (errno 2, as the seed),
    /// <c>allow</c> several (on any replicas: each gets every message and push), or let a new login <c>replace</c> the
    /// older ones (they get ERROR errno 12, then close).
    /// </summary>
    public LoginPolicy Multiple { get; set; } = LoginPolicy.Reject;
}

/// <summary>What a login of a user who is online already does (<see cref="LoginOptions.Multiple"/>).</summary>
public enum LoginPolicy
{
    Reject,
    Allow,
    Replace,
}
