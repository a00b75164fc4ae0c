"""The checkpoints the Uni-Sign authors released (`ZechengLi19/Uni-Sign`), and what is published about each.

The released file names (`<name>.pth`) say which checkpoint a file is, and so its language and clip length:
`unisign convert` uses `released_checkpoint` to set the processor's default prompt language (and the ISLR
checkpoints' 64 frames) when they are not given. `unisign.hub.model_card.reference_card` writes their cards.
"""

from dataclasses import dataclass
from pathlib import Path


REFERENCE_HUB_REPO = "ZechengLi19/Uni-Sign"
CHECKPOINT_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors")
# ISO 639-3 code of the sign language of each written language's released data (CSL-News / CSL-Daily are Chinese
# Sign Language; WLASL, How2Sign and OpenASL are American Sign Language)
SIGN_LANGUAGES = {"zh": "csl", "en": "ase"}


@dataclass(frozen=True)
class ReferenceCheckpoint:
    """A released checkpoint of the authors (`ZechengLi19/Uni-Sign`) and what is published about it.

    `language` is the written language of its targets (the prompt language); its clips are signed in
    `SIGN_LANGUAGES[language]`.
    """

    name: str
    title: str
    description: str
    language: str
    tasks: tuple[str, ...]
    use_rgb: bool
    training_data: str
    # (task, dataset_type, dataset_name, split, scores) published for this very checkpoint's setting
    published: tuple[tuple[str, str, str, str, dict], ...] = ()
    no_score_reason: str = ""
    max_frames: int | None = None


CSL_NEWS = (
    "CSL-News (Chinese Sign Language news broadcasts with Chinese subtitles; the reference trains on the first 99% "
    "of its label list and uses the last 1% as dev)."
)
REFERENCE_CHECKPOINTS = (
    ReferenceCheckpoint(
        name="csl_stage1_weight",
        title="Uni-Sign stage 1 (pose-only pre-training on CSL-News)",
        description="the stage-1 pre-trained model: mT5-base and a new pose encoder trained on CSL-News to "
        "translate into Chinese, pose keypoints only. It is the starting point of the pose-only fine-tunings and "
        "of stage 2",
        language="zh",
        tasks=("SLT",),
        use_rgb=False,
        training_data=CSL_NEWS,
        no_score_reason="The paper publishes no score for the pre-trained model itself, only for the models "
        "fine-tuned from it.",
    ),
    ReferenceCheckpoint(
        name="csl_stage2_weight",
        title="Uni-Sign stage 2 (RGB-pose pre-training on CSL-News)",
        description="the stage-2 pre-trained model: stage 1 plus the RGB hand branch (EfficientNet-B0 crops fused "
        "by prior-guided fusion), trained on CSL-News. It is the starting point of the RGB-pose fine-tunings",
        language="zh",
        tasks=("SLT",),
        use_rgb=True,
        training_data=CSL_NEWS,
        no_score_reason="The paper publishes no score for the pre-trained model itself, only for the models "
        "fine-tuned from it.",
    ),
    ReferenceCheckpoint(
        name="csl_daily_pose_only_slt",
        title="Uni-Sign CSL-Daily translation (pose only)",
        description="fine-tuned from stage 1 for Chinese Sign Language translation on CSL-Daily, pose keypoints only",
        language="zh",
        tasks=("SLT",),
        use_rgb=False,
        training_data="CSL-Daily (daily-life Chinese Sign Language sentences with Chinese translations), after "
        "stage-1 pre-training on CSL-News.",
        published=(("SLT", "csl-daily", "CSL-Daily", "test", {"bleu4": 25.61, "rouge_l": 54.92}),),
    ),
    ReferenceCheckpoint(
        name="csl_daily_rgb_pose_slt",
        title="Uni-Sign CSL-Daily translation (RGB + pose)",
        description="fine-tuned from stage 2 for Chinese Sign Language translation on CSL-Daily, from pose keypoints "
        "and RGB hand crops",
        language="zh",
        tasks=("SLT",),
        use_rgb=True,
        training_data="CSL-Daily (daily-life Chinese Sign Language sentences with Chinese translations), after "
        "stage-1 and stage-2 pre-training on CSL-News.",
        published=(("SLT", "csl-daily", "CSL-Daily", "test", {"bleu4": 26.36, "rouge_l": 56.51}),),
    ),
    ReferenceCheckpoint(
        name="wlasl_pose_only_islr",
        title="Uni-Sign WLASL isolated sign recognition (pose only)",
        description="fine-tuned for American Sign Language isolated sign recognition on WLASL (the target is the "
        "sign's English word), pose keypoints only, 64 frames per clip",
        language="en",
        tasks=("ISLR",),
        use_rgb=False,
        training_data="WLASL (isolated American Sign Language signs; WLASL-2000 has 14,289 / 3,916 / 2,878 "
        "train / dev / test clips), after stage-1 pre-training on CSL-News.",
        no_score_reason="The published ISLR results this package quotes (WLASL-2000: 63.52 / 61.32 top-1 per "
        "instance / per class; WLASL-100: 92.25) are those of the RGB-pose model; no pose-only ISLR score is quoted, "
        "so this checkpoint has no published number here.",
        max_frames=64,
    ),
    ReferenceCheckpoint(
        name="wlasl_rgb_pose_islr",
        title="Uni-Sign WLASL isolated sign recognition (RGB + pose)",
        description="fine-tuned for American Sign Language isolated sign recognition on WLASL (the target is the "
        "sign's English word), from pose keypoints and RGB hand crops, 64 frames per clip",
        language="en",
        tasks=("ISLR",),
        use_rgb=True,
        training_data="WLASL (isolated American Sign Language signs; WLASL-2000 has 14,289 / 3,916 / 2,878 "
        "train / dev / test clips), after stage-1 and stage-2 pre-training on CSL-News.",
        published=(
            ("ISLR", "wlasl-2000", "WLASL-2000", "test", {"top1_per_instance": 63.52, "top1_per_class": 61.32}),
        ),
        no_score_reason="The paper also reports 92.25 top-1 per instance on WLASL-100; the released file is not "
        "documented as the WLASL-100 model, so that number is not listed as this checkpoint's.",
        max_frames=64,
    ),
    ReferenceCheckpoint(
        name="how2sign_pose_only_slt",
        title="Uni-Sign How2Sign translation (pose only)",
        description="fine-tuned for American Sign Language to English translation on How2Sign (instructional "
        "videos), pose keypoints only",
        language="en",
        tasks=("SLT",),
        use_rgb=False,
        training_data="How2Sign (31,086 training and 2,349 test sentences of instructional American Sign Language "
        "with English translations, no dev split), after stage-1 pre-training on CSL-News.",
        published=(("SLT", "how2sign", "How2Sign", "test", {"bleu4": 14.5, "rouge_l": 34.3}),),
    ),
    ReferenceCheckpoint(
        name="openasl_pose_only_slt",
        title="Uni-Sign OpenASL translation (pose only)",
        description="fine-tuned for American Sign Language to English translation on OpenASL (news and vlogs), "
        "pose keypoints only",
        language="en",
        tasks=("SLT",),
        use_rgb=False,
        training_data="OpenASL (American Sign Language news and vlog clips with English translations; 967 dev and "
        "976 test clips), after stage-1 pre-training on CSL-News.",
        no_score_reason="The published results this package quotes (CSL-Daily, How2Sign, WLASL, MSASL) include no "
        "OpenASL score, although the paper evaluates on OpenASL; none is listed here, check the paper before quoting "
        "one.",
    ),
)


def released_checkpoint(checkpoint: str | Path) -> ReferenceCheckpoint | None:
    """The released checkpoint a file is, from its name (`wlasl_pose_only_islr.pth` -> `wlasl_pose_only_islr`).

    Args:
        checkpoint: A file path or name, with or without its suffix (`.pth`, `.pt`, `.bin`, `.safetensors`).

    Returns:
        `ReferenceCheckpoint`, or `None` when the name is not one of the released files.
    """
    name = Path(checkpoint).name
    for suffix in CHECKPOINT_SUFFIXES:
        name = name.removesuffix(suffix)
    return next((released for released in REFERENCE_CHECKPOINTS if released.name == name), None)


__all__ = [
    "REFERENCE_CHECKPOINTS",
    "REFERENCE_HUB_REPO",
    "SIGN_LANGUAGES",
    "ReferenceCheckpoint",
    "released_checkpoint",
]
