using System.Security.Cryptography.X509Certificates;

namespace Chat.Server.Hosting;

/// <summary>Loads the chat port's certificate: PFX with its password, or PEM certificate and key.</summary>
public static class ChatTls
{
    public static X509Certificate2 LoadCertificate(ChatTlsOptions tls)
    {
        var path = tls.CertificatePath ?? throw new InvalidOperationException("Chat:Tls:CertificatePath is not set");
        if (string.IsNullOrEmpty(tls.KeyPath))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, tls.CertificatePassword);
        }

        return string.IsNullOrEmpty(tls.CertificatePassword)
            ? X509Certificate2.CreateFromPemFile(path, tls.KeyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(path, tls.CertificatePassword, tls.KeyPath);
    }

    public static bool FilesExist(ChatTlsOptions tls) =>
        !tls.Enabled || (File.Exists(tls.CertificatePath) && (string.IsNullOrEmpty(tls.KeyPath) || File.Exists(tls.KeyPath)));
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
