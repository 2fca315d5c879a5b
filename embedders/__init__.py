"""Embedders: turn text into vectors. ``gemini`` (Google's API through google-genai),
``local`` (sentence-transformers models on this machine) and ``hashing`` (offline, lexical).

Each is found by name through :func:`vecbridge.core.load_embedder`; their SDKs are imported only
inside their own package, so a missing extra raises ``MissingExtra`` naming the pip command.
"""
