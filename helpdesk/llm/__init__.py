"""The LLM gateway: the Ollama client, node health and routing, model profiles, and the text the model returns."""
