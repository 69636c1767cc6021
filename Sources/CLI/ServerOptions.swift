/// The options that name a model or encoder server instead of a local file. The runtime resolves
/// them with the environment and the config file (`RuntimeConfiguration.llmServer()`); the API
/// key has no option: it is read from $STRATA_LLM_API_KEY only, so it is never in a `ps` listing
/// or a shell history.
enum ServerOptions {
    static let llm: [OptionSpec] = [
        .value("llm-url", "URL", "answer with an OpenAI-compatible server at this API base, e.g. http://127.0.0.1:8080/v1 (default: $STRATA_LLM_URL; key: $STRATA_LLM_API_KEY)"),
        .value("llm-model", "NAME", "the model name to ask that server for (default: $STRATA_LLM_MODEL, else the one it serves)"),
    ]
    static let embedder: [OptionSpec] = [
        .value("embedder-url", "URL", "encode with an OpenAI-compatible /v1/embeddings server (default: $STRATA_EMBEDDER_URL)"),
        .value("embedder-model", "NAME", "the encoder's name on that server (default: $STRATA_EMBEDDER_MODEL, else the one it serves)"),
    ]
}
