"""Sharing on the Hugging Face Hub: uploads, model cards and the catalogue of the authors' released checkpoints."""
