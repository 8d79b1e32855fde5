"""One module per external system: embedding models, Chroma, LLM backends."""
