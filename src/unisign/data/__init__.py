"""Readers that turn the datasets of the field into `PoseSample`s, and `datasets` conversion.

`PoseSample` and the `.pose` file reader and writer travel with the model (`unisign.models.unisign`); they are
imported from `unisign` itself.
"""

from .pose_dataset import load_pose_dataset, samples_to_dataset_dict, save_pose_dataset
from .reference import (
    REFERENCE_LAYOUTS,
    LabelRecord,
    load_pose_samples,
    pose_dict_to_sample,
    read_csl_news_labels,
    read_label_file,
    read_msasl_labels,
    read_pose_pickle,
    task_target,
)
from .safe_pickle import UnsafePickleError, load_restricted_pickle
from .sample import dataset_features, sample_from_row, samples_to_dataset
