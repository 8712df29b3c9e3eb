using System;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading;

namespace ModelSecurity.Provenance;

/// <summary>What the registry's manifest for a tag says: its digest and its model layer.</summary>
internal sealed record OllamaRemoteManifest(string Digest, int LayerCount, string? ModelDigest, long? ModelSize);

/// <summary>
/// Reads manifests from an Ollama registry (<c>GET /v2/{namespace}/{model}/manifests/{tag}</c>,
/// formats.md §7.2). The endpoint is the parameter, else https://registry.ollama.ai.
/// </summary>
internal sealed class OllamaRegistryClient
{
    public const string DefaultEndpoint = "https://registry.ollama.ai";
    private const string ManifestMediaType = "application/vnd.docker.distribution.manifest.v2+json";

    public OllamaRegistryClient(Uri? endpoint, TimeSpan timeout)
    {
        Endpoint = endpoint ?? new Uri(DefaultEndpoint);
        Timeout = timeout;
    }

    public Uri Endpoint { get; }

    public TimeSpan Timeout { get; }

    public OllamaRemoteManifest GetManifest(string ns, string model, string tag, CancellationToken cancel)
    {
        var uri = new Uri($"{Endpoint.AbsoluteUri.TrimEnd('/')}/v2/{Uri.EscapeDataString(ns)}/{Uri.EscapeDataString(model)}/manifests/{Uri.EscapeDataString(tag)}");
        byte[] body = RegistryHttp.Get(uri, ManifestMediaType, Timeout, cancel)!;
        string digest = "sha256:" + Convert.ToHexString(SHA256.HashData(body)).ToLowerInvariant();
        try
        {
            using JsonDocument document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("layers", out JsonElement layers) || layers.ValueKind != JsonValueKind.Array)
            {
                throw new OnlineLookupException(OnlineLookupException.InvalidResponse, $"{uri}: the answer is not a manifest (no 'layers').");
            }

            JsonElement modelLayer = layers.EnumerateArray().FirstOrDefault(l => l.ValueKind == JsonValueKind.Object
                && l.TryGetProperty("mediaType", out JsonElement m) && m.ValueKind == JsonValueKind.String && m.GetString() == "application/vnd.ollama.image.model");
            string? modelDigest = modelLayer.ValueKind == JsonValueKind.Object && modelLayer.TryGetProperty("digest", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            long? size = modelLayer.ValueKind == JsonValueKind.Object && modelLayer.TryGetProperty("size", out JsonElement s) && s.TryGetInt64(out long n) ? n : null;
            return new OllamaRemoteManifest(digest, layers.GetArrayLength(), modelDigest, size);
        }
        catch (JsonException e)
        {
            throw new OnlineLookupException(OnlineLookupException.InvalidResponse, $"{uri}: the answer is not valid JSON ({e.Message}).", e);
        }
    }
}
