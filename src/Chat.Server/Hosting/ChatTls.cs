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
