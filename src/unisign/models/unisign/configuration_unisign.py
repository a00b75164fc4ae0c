"""Uni-Sign model configuration."""

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec
from transformers.utils import logging

from .errors_unisign import UniSignInputError
from .keypoints import PART_EDGES, PART_INDICES, PART_NAMES


logger = logging.get_logger(__name__)

# google/mt5-base, the language model of every released Uni-Sign checkpoint.
MT5_BASE_GEOMETRY = {
    "vocab_size": 250112,
    "d_model": 768,
    "d_kv": 64,
    "d_ff": 2048,
    "num_layers": 12,
    "num_decoder_layers": 12,
    "num_heads": 12,
    "feed_forward_proj": "gated-gelu",
    "dropout_rate": 0.1,
    "tie_word_embeddings": False,
}


# Fields of configurations written before the processor owned them, and where each lives now.
PROCESSOR_SETTINGS = ("max_frames", "pose_score_threshold", "rgb_sampling_ratio")
PROCESSOR_SETTINGS_HELP = (
    "`processor.feature_extractor.max_frames`, `processor.feature_extractor.score_threshold`, "
    "`processor.video_processor.hand_frame_fraction`, saved in processor_config.json"
)


# Bounds on one generation. Uni-Sign's targets are at most `max_target_length` tokens (50 by default); far larger
# settings only exhaust memory (10**9 new tokens ran until the process was killed, 1000 beams crashed ONNX Runtime).
MAX_NEW_TOKENS = 1024
MAX_NUM_BEAMS = 64


def check_generation_bounds(generation_config) -> None:
    """Raise one `ValueError` line when a generation asks for more new tokens or beams than Uni-Sign bounds.

    Args:
        generation_config (`GenerationConfig`): The settings the generation will run with.
    """
    for name, bound in (
        ("max_new_tokens", MAX_NEW_TOKENS),
        ("max_length", MAX_NEW_TOKENS),
        ("num_beams", MAX_NUM_BEAMS),
    ):
        value = getattr(generation_config, name, None)
        if value is not None and value > bound:
            raise UniSignInputError(f"`{name}` must be at most {bound} for a Uni-Sign translation, got {value}.")


def _tasks_registered(custom_pipelines: dict | None) -> bool:
    """Whether every task of a config's `custom_pipelines` has a pipeline registered in this process."""
    if not custom_pipelines:
        return False
    from transformers.pipelines import PIPELINE_REGISTRY

    return all(task in PIPELINE_REGISTRY.get_supported_tasks() for task in custom_pipelines)


@strict
class UniSignConfig(PreTrainedConfig):
    r"""Configuration of [`UniSignForConditionalGeneration`]: pose encoder, optional RGB hand branch and mT5.

    The defaults reproduce the released Uni-Sign checkpoints (mT5-base, hidden size 256, 256 frames, pose only).

    Args:
        text_config (`dict` or `PreTrainedConfig`, *optional*):
            The mT5 configuration. Defaults to google/mt5-base geometry. Its `lm_head` is never tied to the input
            embedding (mT5 keeps them separate).
        pose_part_indices (`dict[str, list[int]]`, *optional*):
            For each part of `keypoints.PART_NAMES`, its indices into the COCO-WholeBody-133 keypoints, in node order.
            Defaults to the reference's parts (body 9, hands 21 each, face 18).
        pose_input_channels (`int`, *optional*, defaults to 3):
            Channels per keypoint: x, y, confidence.
        pose_embed_dim (`int`, *optional*, defaults to 64):
            Width of the per-keypoint linear embedding that feeds the graph convolutions.
        pose_spatial_channels (`list[int]`, *optional*, defaults to `(64, 128, 256)`):
            Output channels of the spatial ST-GCN blocks (temporal kernel 1).
        pose_num_temporal_blocks (`int`, *optional*, defaults to 3):
            Number of temporal ST-GCN blocks after the spatial chain; they keep the last spatial width.
        pose_temporal_kernel_size (`int`, *optional*, defaults to 5):
            Temporal kernel of the temporal blocks (odd; "same" padding, stride 1: one token per frame).
        mask_padded_frames (`bool`, *optional*, defaults to `False`):
            If `True`, zero the features of padded frames before every temporal convolution, so a clip gives the
            same result alone and in a padded batch (eval mode). `False` reproduces the reference, whose temporal
            convolutions see the repeated last frame used as padding.
        batch_hands_together (`bool`, *optional*, defaults to `False`):
            If `True`, the shared hand encoder runs once on both hands stacked on the batch axis. Identical in eval
            mode; in training its batch norms then normalise both hands with the same batch statistics, the ones
            their running averages (used in eval mode) estimate. `False` reproduces the reference, which runs the
            left and then the right hand: in training each hand is normalised by its own batch statistics, in eval
            mode by running averages of the two mixed, a gap that can cost a model trained from scratch much of its
            accuracy in eval mode (issue 19: 16 ISLR points for one seed of the main job).
        label_smoothing (`float`, *optional*, defaults to 0.2):
            Label smoothing of the cross-entropy loss.
        use_rgb (`bool`, *optional*, defaults to `False`):
            Build the RGB hand branch (EfficientNet-B0 on hand crops, fused by PGF). Needs torchvision.
        rgb_backbone (`str`, *optional*, defaults to `"efficientnet_b0"`):
            torchvision model whose `features` encode the hand crops.
        rgb_backbone_channels (`int`, *optional*, defaults to 1280):
            Channels of the backbone's last feature map.
        rgb_crop_size (`int`, *optional*, defaults to 112):
            Side of the square hand crops, in pixels.
        rgb_feature_size (`int`, *optional*, defaults to 4):
            Side of the backbone's feature map for one crop (112 / 32 for EfficientNet-B0).
        pgf_num_heads (`int`, *optional*, defaults to 8):
            Attention heads of prior-guided fusion (PGF); also its offset groups.
        pgf_head_dim (`int`, *optional*, defaults to 32):
            Width of one PGF head.
        pgf_offset_scale (`float`, *optional*, defaults to 4/6):
            Largest offset of a PGF sampling point, in normalised [-1, 1] crop units.
        pgf_position_bias_dim (`int`, *optional*, defaults to 64):
            Hidden width of the continuous relative position bias MLP.
        initializer_range (`float`, *optional*, defaults to 0.02):
            Standard deviation of the truncated normal that initialises the pose encoder's linear layers.
        check_input_values (`bool`, *optional*, defaults to `False`):
            Also check the *values* of the inputs on every forward (finite poses and crops, a prefix frame mask, hand
            indices in range). Each such check waits for the accelerator, so it is off by default; shapes are
            always checked, and the processor only produces valid values.
        kept_token_ids (`list[int]`, *optional*):
            Set on a model whose vocabulary was trimmed to the tokens of its training texts, prompts and special
            tokens (`unisign trim-vocab`, `unisign export-onnx --trim-vocab`): the tokenizer's ids it kept, sorted,
            one per row of its embedding and `lm_head` (`text_config.vocab_size` of them; `<pad>`, `</s>` and `<unk>`
            keep ids 0, 1, 2). The model reads and writes these rows' numbers; its processor (whose
            `kept_token_ids` is the same list) maps them to and from the tokenizer's ids. `None`: the whole
            vocabulary.

    Settings that only the processor reads live in its configuration (`processor_config.json`): the feature
    extractor's `max_frames` and `score_threshold`, the video processor's `hand_frame_fraction`. A `config.json`
    written before they moved still loads: its `max_frames`, `pose_score_threshold` and `rgb_sampling_ratio` are
    dropped with a warning (the processor saved next to it carries the same values). A `config.json` that names
    `fast_path` (once a choice between two implementations of the pose encoder that agreed to float rounding) loads
    too: the field is dropped, as the model has one implementation.

    Example:
    ```python
    >>> from unisign import UniSignConfig, UniSignForConditionalGeneration

    >>> config = UniSignConfig(use_rgb=False)  # released geometry: mT5-base + pose encoder
    >>> model = UniSignForConditionalGeneration(config)
    ```
    """

    model_type = "unisign"
    sub_configs_defaults = {
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="mt5", init_kwargs=MT5_BASE_GEOMETRY)
    }

    text_config: dict | PreTrainedConfig | None = None

    # Pose encoder
    pose_part_indices: dict | None = None
    pose_input_channels: int = 3
    pose_embed_dim: int = 64
    pose_spatial_channels: list[int] | tuple[int, ...] = (64, 128, 256)
    pose_num_temporal_blocks: int = 3
    pose_temporal_kernel_size: int = 5
    mask_padded_frames: bool = False
    batch_hands_together: bool = False
    label_smoothing: float = 0.2
    initializer_range: float = 0.02
    check_input_values: bool = False
    kept_token_ids: list[int] | None = None

    # RGB hand branch (stage 2 and RGB-pose fine-tuning)
    use_rgb: bool = False
    rgb_backbone: str = "efficientnet_b0"
    rgb_backbone_channels: int = 1280
    rgb_crop_size: int = 112
    rgb_feature_size: int = 4
    pgf_num_heads: int = 8
    pgf_head_dim: int = 32
    pgf_offset_scale: float = 4 / 6
    pgf_position_bias_dim: int = 64

    # `lm_head` is not tied to the input embedding (mT5); the LM's encoder and decoder embeddings are `shared` itself.
    tie_word_embeddings: bool = False
    is_encoder_decoder: bool = True
    pad_token_id: int | None = None
    eos_token_id: int | None = None
    decoder_start_token_id: int | None = None

    def __post_init__(self, **kwargs):
        # `pipeline()` treats a task named in `custom_pipelines` as remote code (and asks for `trust_remote_code`) even
        # when it is registered here already; where it is (the package or the remote module was imported), that
        # registration serves and the entry is dropped. `save_pretrained` writes it again (`add_remote_code`).
        if _tasks_registered(kwargs.get("custom_pipelines")):
            del kwargs["custom_pipelines"]
        kwargs.pop("fast_path", None)  # written before the model had one implementation; either value loads it
        moved = sorted(name for name in PROCESSOR_SETTINGS if kwargs.pop(name, None) is not None)
        if moved:
            logger.warning_once(
                f"UniSignConfig ignores {moved}: they are processor settings now ({PROCESSOR_SETTINGS_HELP})."
            )
        if self.pose_part_indices is None:
            self.pose_part_indices = {name: list(indices) for name, indices in PART_INDICES.items()}
        self.pose_spatial_channels = list(self.pose_spatial_channels)
        super().__post_init__(**kwargs)
        # MT5Config forces `tie_word_embeddings=True` on every load; mT5's real lm_head is not tied (configs saved
        # before this said `true` at the top level too, which PEFT warned about).
        self.text_config.tie_word_embeddings = False
        self.tie_word_embeddings = False
        # Seq2SeqTrainer(predict_with_generate=True) and generation read these from the top-level config.
        for name in ("pad_token_id", "eos_token_id", "decoder_start_token_id"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(self.text_config, name))

    @property
    def pose_hidden_size(self) -> int:
        """Width of each part's features after the spatial chain (256 in the reference)."""
        return self.pose_spatial_channels[-1]

    @property
    def num_pose_nodes(self) -> int:
        """Total keypoints the model reads per frame (69 in the reference)."""
        return sum(len(self.pose_part_indices[name]) for name in PART_NAMES)

    def validate_architecture(self):
        """Check that the pose layout and the branch sizes fit together."""
        super().validate_architecture()
        if sorted(self.pose_part_indices) != sorted(PART_NAMES):
            raise UniSignInputError(
                f"`pose_part_indices` must have exactly the parts {list(PART_NAMES)}, "
                f"got {sorted(self.pose_part_indices)}."
            )
        for name in PART_NAMES:
            num_nodes = len(self.pose_part_indices[name])
            graph_nodes = 1 + max(max(edge) for edge in PART_EDGES[name])
            if num_nodes != graph_nodes:
                raise UniSignInputError(
                    f"Part `{name}` has {num_nodes} keypoints in `pose_part_indices` but its graph has {graph_nodes} "
                    "nodes: the part layouts of `unisign.models.unisign.keypoints` are fixed."
                )
        if self.pose_temporal_kernel_size < 1 or self.pose_temporal_kernel_size % 2 == 0:
            raise UniSignInputError(
                f"`pose_temporal_kernel_size` must be odd and positive (one token per frame), got "
                f"{self.pose_temporal_kernel_size}."
            )
        if self.use_rgb and self.pgf_num_heads * self.pgf_head_dim != self.pose_hidden_size:
            raise UniSignInputError(
                f"PGF needs `pgf_num_heads * pgf_head_dim` == pose hidden size {self.pose_hidden_size}, got "
                f"{self.pgf_num_heads} * {self.pgf_head_dim}."
            )
        if not 0.0 <= self.label_smoothing < 1.0:
            raise UniSignInputError(f"`label_smoothing` must be in [0, 1), got {self.label_smoothing}.")
        kept = self.kept_token_ids
        if kept is not None and (
            len(kept) != self.text_config.vocab_size
            or list(kept[:3]) != [0, 1, 2]
            or any(later <= earlier for earlier, later in zip(kept, kept[1:], strict=False))
        ):
            raise UniSignInputError(
                f"`kept_token_ids` must be {self.text_config.vocab_size} (`text_config.vocab_size`) strictly "
                f"increasing token ids starting with 0, 1, 2, got {len(kept)} ids starting {list(kept[:3])}."
            )


__all__ = ["MAX_NEW_TOKENS", "MAX_NUM_BEAMS", "UniSignConfig", "check_generation_bounds"]
