using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ModelSecurity.Integrity.Signing;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Signs a model folder with an ECDSA key into an OpenSSF Model Signing model.sig.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "ModelSignature", SupportsShouldProcess = true)]
[OutputType(typeof(ModelSignature))]
public sealed class NewModelSignatureCommand : ModelFolderCmdlet
{
    private ECDsa? _key;
    private List<X509Certificate2>? _chain;

    /// <summary>The PEM private key (ECDSA P-256, P-384 or P-521; PKCS#8, SEC1 or encrypted PKCS#8).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string PrivateKeyPath { get; set; } = string.Empty;

    /// <summary>The password of an encrypted private key.</summary>
    [Parameter]
    public SecureString? Password { get; set; }

    /// <summary>A PEM certificate chain, signing certificate first: sign in certificate mode.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificateChainPath { get; set; }

    /// <summary>Files (one resource per file, the default) or Shards.</summary>
    [Parameter]
    public ModelHashMethod HashMethod { get; set; } = ModelHashMethod.Files;

    /// <summary>Shard size in bytes for -HashMethod Shards.</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long ShardSize { get; set; } = HashingSettings.DefaultShardSize;

    /// <summary>Sign symbolic links (as the content they point to) instead of refusing them.</summary>
    [Parameter]
    public SwitchParameter AllowSymlinks { get; set; }

    /// <summary>Overwrite an existing signature file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        try
        {
            _key = SigningKeys.LoadPrivateKey(ResolveFile(PrivateKeyPath), Password);
        }
        catch (SigningKeyException e)
        {
            ThrowKeyError(e, nameof(PrivateKeyPath), PrivateKeyPath);
            return;
        }

        if (CertificateChainPath is null)
        {
            return;
        }

        try
        {
            _chain = SigningKeys.LoadCertificates(ResolveFile(CertificateChainPath), "certificate chain").Cast<X509Certificate2>().ToList();
        }
        catch (SigningKeyException e)
        {
            ThrowKeyError(e, nameof(CertificateChainPath), CertificateChainPath);
            return;
        }

        using ECDsa? leafKey = _chain[0].GetECDsaPublicKey();
        if (leafKey is null || !SigningKeys.SamePublicKey(leafKey, _key))
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"The private key does not belong to the first certificate of the chain ('{_chain[0].Subject}'); the chain must start with the signing certificate."),
                SigningErrorIds.CertificateKeyMismatch,
                ErrorCategory.InvalidArgument,
                CertificateChainPath));
        }
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        foreach (string folder in ResolveFolders())
        {
            CancelToken.ThrowIfCancellationRequested();
            string? signaturePath = SignatureFileFor(folder);
            if (signaturePath is null)
            {
                continue;
            }

            if (File.Exists(signaturePath) && !Force)
            {
                WriteInputError(
                    new IOException($"The signature file '{signaturePath}' already exists."),
                    SigningErrorIds.SignatureExists,
                    ErrorCategory.ResourceExists,
                    folder,
                    "Use -Force to replace it.");
                continue;
            }

            if (!ShouldProcess(folder, $"Sign every file and write '{signaturePath}'"))
            {
                continue;
            }

            List<string> ignore = ModelSigner.IgnorePaths(folder, signaturePath, IgnorePath ?? Array.Empty<string>(), out List<string> outside);
            foreach (string path in outside)
            {
                WriteWarning($"-IgnorePath '{path}' is outside the model folder '{folder}' and has no effect.");
            }

            var settings = new HashingSettings(HashMethod, ShardSize, AllowSymlinks, ignore);
            WriteVerbose($"Signing '{folder}' ({HashMethod}, ignoring {string.Join(", ", ignore)}).");
            try
            {
                WriteObject(ModelSigner.Sign(folder, signaturePath, _key!, _chain, settings, CancelToken));
            }
            catch (ModelHashingException e) when (e.IsSymlink)
            {
                WriteInputError(e, SigningErrorIds.SymlinkNotAllowed, ErrorCategory.InvalidData, folder, "Remove the link, ignore it with -IgnorePath, or sign with -AllowSymlinks.");
            }
            catch (Exception e) when (e is ModelHashingException or IOException or UnauthorizedAccessException)
            {
                WriteInputError(e, SigningErrorIds.ModelFolderUnreadable, ErrorCategory.ReadError, folder);
            }
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _key?.Dispose();
            foreach (X509Certificate2 certificate in _chain ?? new List<X509Certificate2>())
            {
                certificate.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
