"""One module per external system: model files, vLLM, an upstream OpenAI-compatible server."""
