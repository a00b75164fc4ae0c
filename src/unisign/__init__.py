"""Uni-Sign for Hugging Face transformers."""

__version__ = "0.1.0"

# processor registration goes here
