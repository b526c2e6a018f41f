using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

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

    /// <summary>The first certificate or key file that is named but missing, or null.</summary>
    public static string? MissingFile(ChatTlsOptions tls) =>
        !tls.Enabled ? null
        : !File.Exists(tls.CertificatePath) ? tls.CertificatePath
        : !string.IsNullOrEmpty(tls.KeyPath) && !File.Exists(tls.KeyPath) ? tls.KeyPath
        : null;
}

/// <summary>Refuses to start when a TLS file named in <c>Chat:Tls</c> does not exist, naming it.</summary>
public sealed class ChatTlsValidator : IValidateOptions<ChatServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatServerOptions options) =>
        ChatTls.MissingFile(options.Tls) is { } missing
            ? ValidateOptionsResult.Fail($"Chat:Tls: {missing} does not exist")
            : ValidateOptionsResult.Success;
}
