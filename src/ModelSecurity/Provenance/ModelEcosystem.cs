namespace ModelSecurity.Provenance;

/// <summary>Where a model file came from, as told by the folder layout it sits in.</summary>
public enum ModelEcosystem
{
    /// <summary>A file in no recognised cache layout.</summary>
    Local,

    /// <summary>The Hugging Face hub cache (<c>models--org--name/snapshots/&lt;commit&gt;</c>), also used by current llama.cpp and vLLM.</summary>
    HuggingFace,

    /// <summary>An Ollama model store (<c>manifests/</c> and <c>blobs/sha256-…</c>).</summary>
    Ollama,

    /// <summary>LM Studio's models folder (<c>publisher/repo/file</c>).</summary>
    LMStudio,

    /// <summary>llama.cpp's own download cache from before it adopted the Hugging Face layout.</summary>
    LlamaCpp,

    /// <summary>GPT4All's models folder.</summary>
    GPT4All,

    /// <summary>Jan's models folder.</summary>
    Jan,

    /// <summary>A text-generation-webui download folder with <c>huggingface-metadata.txt</c>.</summary>
    TextGenerationWebUI,
}
