"""Chat with AI: a language model on an OpenAI-compatible server answers questions with tools that call the API."""
