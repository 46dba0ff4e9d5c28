"""``muie serve``: the HTTP API, the OpenAI-compatible endpoint and the web page."""
