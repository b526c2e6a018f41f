using System.IO.Pipelines;
using System.Net;
using Chat.Server.Sessions;
using Chat.Server.Transport;
using Chat.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Limits;

/// <summary>The per-address buckets on a hand-driven clock: refill, isolation, and the bounded table.</summary>
[Trait("Kind", "Unit")]
public sealed class LoginThrottleUnitTests
{
    private readonly ManualClock _clock = new();

    private LoginThrottle Throttle(int perAddress = 3, int maxTracked = 100) => new(
        Options.Create(new LoginOptions
        {
            LoginFailuresPerConnection = 1000,
            LoginAttemptsPerAddress = perAddress,
            LoginAttemptRefill = TimeSpan.FromSeconds(10),
            MaxTrackedAddresses = maxTracked,
        }),
        _clock,
        NullLogger<LoginThrottle>.Instance);

    private static RequestContext From(string address)
    {
        var connection = new MemoryConnection(address).Context;
        connection.RemoteEndPoint = new IPEndPoint(IPAddress.Parse(address), 40000);
        return new RequestContext(new ChatConnection(connection, new ConnectionOptions()), maxInFlight: 1);
    }

    [Fact]
    public void An_address_gets_its_burst_then_one_attempt_per_refill_interval()
    {
        var throttle = Throttle();
        var attacker = From("10.0.0.1");
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(throttle.Refuse(attacker, LoginAttempt.Token));
            throttle.Failed(attacker);
        }

        Assert.Equal("too many failed attempts from your address: retry in 10 s", throttle.Refuse(attacker, LoginAttempt.Token));
        Assert.Null(throttle.Refuse(From("10.0.0.2"), LoginAttempt.Token));

        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(throttle.Refuse(attacker, LoginAttempt.Token));
        throttle.Failed(attacker);
        Assert.NotNull(throttle.Refuse(attacker, LoginAttempt.Token));

        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(throttle.Refuse(attacker, LoginAttempt.Token));
        Assert.Equal(0, throttle.TrackedAddresses);
    }

    [Fact]
    public void IPv4_mapped_IPv6_is_the_same_address()
    {
        var throttle = Throttle(perAddress: 1);
        throttle.Failed(From("10.0.0.7"));
        Assert.NotNull(throttle.Refuse(From("::ffff:10.0.0.7"), LoginAttempt.Token));
    }

    [Fact]
    public void The_table_is_bounded_and_drops_expired_entries_when_full()
    {
        var throttle = Throttle(perAddress: 1, maxTracked: 2);
        throttle.Failed(From("10.0.0.1"));
        throttle.Failed(From("10.0.0.2"));
        throttle.Failed(From("10.0.0.3"));

        Assert.Equal(2, throttle.TrackedAddresses);
        Assert.Null(throttle.Refuse(From("10.0.0.3"), LoginAttempt.Token));

        _clock.Advance(TimeSpan.FromSeconds(11));
        throttle.Failed(From("10.0.0.3"));
        Assert.Equal(1, throttle.TrackedAddresses);
        Assert.NotNull(throttle.Refuse(From("10.0.0.3"), LoginAttempt.Token));
    }

    [Fact]
    public void A_connection_over_its_failures_is_refused_and_asked_to_close()
    {
        var throttle = new LoginThrottle(
            Options.Create(new LoginOptions { LoginFailuresPerConnection = 2 }), _clock, NullLogger<LoginThrottle>.Instance);
        var session = From("10.0.0.9");
        throttle.Failed(session);
        Assert.Null(throttle.Refuse(session, LoginAttempt.Token));
        throttle.Failed(session);

        Assert.StartsWith("too many failed attempts on this connection", throttle.Refuse(session, LoginAttempt.Token));
        Assert.True(session.Connection.Closing);
    }

    [Fact]
    public void Every_registration_spends_successful_or_not_and_password_logins_have_their_own_bucket()
    {
        var throttle = new LoginThrottle(
            Options.Create(new LoginOptions
            {
                RegistrationsPerAddress = 2,
                RegistrationRefill = TimeSpan.FromSeconds(30),
                PasswordLoginsPerAddress = 3,
                PasswordLoginRefill = TimeSpan.FromSeconds(1),
            }),
            _clock,
            NullLogger<LoginThrottle>.Instance);
        var flooder = From("10.0.0.4");
        Assert.Null(throttle.Refuse(flooder, LoginAttempt.Register));
        Assert.Null(throttle.Refuse(flooder, LoginAttempt.Register));
        Assert.Equal("too many registrations from your address: retry in 30 s", throttle.Refuse(flooder, LoginAttempt.Register));
        Assert.False(flooder.Connection.Closing);

        // Logins are another budget; token logins spend only when they fail.
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(throttle.Refuse(flooder, LoginAttempt.Password));
        }

        Assert.Equal("too many logins from your address: retry in 1 s", throttle.Refuse(flooder, LoginAttempt.Password));
        Assert.Null(throttle.Refuse(flooder, LoginAttempt.Token));

        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(throttle.Refuse(flooder, LoginAttempt.Register));
        Assert.NotNull(throttle.Refuse(flooder, LoginAttempt.Register));
        Assert.Null(throttle.Refuse(From("10.0.0.5"), LoginAttempt.Register));
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }
}
