"""Neural sequence models (PyTorch): language models and the shared training runtime."""
