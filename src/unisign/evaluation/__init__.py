"""Scores as the reference computes them (`metrics`) and the evaluation command line (`cli`)."""
