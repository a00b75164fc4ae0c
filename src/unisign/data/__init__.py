"""Readers that turn the datasets of the field into `PoseSample`s, and `datasets` conversion."""

from .sample import PoseSample, dataset_features, sample_from_row, samples_to_dataset
