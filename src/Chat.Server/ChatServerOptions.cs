using System.ComponentModel.DataAnnotations;

namespace Chat.Server;

/// <summary>
/// The replica as a host (section <c>Chat</c>; environment <c>Chat__Port</c> and so on): its name, its two ports, TLS and
/// trusted balancers. Other areas bind their own options from the same section.
/// </summary>
public sealed class ChatServerOptions
{
    public const string Section = "Chat";

    /// <summary>Address both ports bind to.</summary>
    [Required]
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>The chat TCP port; 0 picks a free one.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 6000;

    /// <summary>The HTTP port for health endpoints; 0 picks a free one.</summary>
    [Range(0, 65535)]
    public int HttpPort { get; set; } = 8080;

    /// <summary>TLS on the chat port (<c>Chat:Tls:*</c>); off unless a certificate is given.</summary>
    public ChatTlsOptions Tls { get; set; } = new();

    /// <summary>This replica's name in presence and logs.</summary>
    [Required]
    public string ReplicaId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>
    /// Addresses or networks (CIDR) of load balancers that send the PROXY protocol (nginx: <c>proxy_protocol on</c>).
    /// From them, a PROXY line at the start of a connection names the real client, for the login limits and logs.
    /// Empty (the default): no PROXY line is read from anyone.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];
}

/// <summary>The chat port's certificate: a PFX (with its password), or a PEM certificate with a PEM key.</summary>
public sealed class ChatTlsOptions
{
    /// <summary>PFX file, or PEM certificate file when <see cref="KeyPath"/> is set.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PFX's password, or the PEM key's when it is encrypted.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>PEM private key file that goes with a PEM <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(CertificatePath);
}
