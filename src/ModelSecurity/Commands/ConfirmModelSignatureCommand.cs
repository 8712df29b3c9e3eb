using System;
using System.Management.Automation;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ModelSecurity.Integrity.Signing;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Verifies an OpenSSF Model Signing signature (model.sig) and every file of the model folder.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Confirm, "ModelSignature", DefaultParameterSetName = KeySet)]
[OutputType(typeof(ModelSignatureResult), ParameterSetName = new[] { KeySet, CertificateSet, KeylessSet })]
[OutputType(typeof(bool))]
public sealed class ConfirmModelSignatureCommand : ModelFolderCmdlet
{
    private const string KeySet = "PublicKey";
    private const string CertificateSet = "Certificate";
    private const string KeylessSet = "Keyless";

    private SignatureTrust? _trust;
    private bool _allValid = true;
    private int _verified;

    /// <summary>The signer's PEM public key.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KeySet)]
    [ValidateNotNullOrEmpty]
    public string? PublicKeyPath { get; set; }

    /// <summary>PEM root certificates the signing certificate's chain must lead to.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CertificateSet)]
    [ValidateNotNullOrEmpty]
    public string? CertificateRootPath { get; set; }

    /// <summary>Accept Sigstore keyless signatures: report the identity, verify the files, and say the log was not checked.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KeylessSet)]
    public SwitchParameter AllowKeyless { get; set; }

    /// <summary>Do not fail on files of the folder that the signature does not list.</summary>
    [Parameter]
    public SwitchParameter IgnoreUnsignedFiles { get; set; }

    /// <summary>Return one Boolean: true only when every folder is Valid.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        try
        {
            if (PublicKeyPath is not null)
            {
                _trust = SignatureTrust.ForKey(SigningKeys.LoadPublicKey(ResolveFile(PublicKeyPath)));
            }
            else if (CertificateRootPath is not null)
            {
                _trust = SignatureTrust.ForRoots(SigningKeys.LoadCertificates(ResolveFile(CertificateRootPath), "root certificate"));
            }
            else
            {
                _trust = SignatureTrust.ForKeyless();
            }
        }
        catch (SigningKeyException e)
        {
            ThrowKeyError(e, PublicKeyPath is not null ? nameof(PublicKeyPath) : nameof(CertificateRootPath), (object?)PublicKeyPath ?? CertificateRootPath!);
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

            ModelSignatureResult result = ModelSignatureVerifier.Verify(folder, signaturePath, _trust!, IgnorePath ?? Array.Empty<string>(), IgnoreUnsignedFiles, CancelToken);
            _verified++;
            WriteVerbose($"{result.Status} {folder}: {result.Reason}");
            if (result.Status == ModelSignatureStatus.Unverified)
            {
                WriteWarning($"'{folder}' has a Sigstore keyless signature by {result.Signer}; its transparency log entry and certificate chain were not checked, so it is reported Unverified, not Valid.");
            }

            if (Quiet)
            {
                _allValid &= result.Status == ModelSignatureStatus.Valid;
            }
            else
            {
                WriteObject(result);
            }
        }
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        if (Quiet)
        {
            WriteObject(_allValid && _verified > 0);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _trust?.Key?.Dispose();
            foreach (X509Certificate2 root in _trust?.Roots ?? new X509Certificate2Collection())
            {
                root.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
