"""Uni-Sign: unified sign language understanding (Li et al., ICLR 2025, https://arxiv.org/abs/2501.15187).

A pose encoder (ST-GCN chains over four keypoint parts, optionally fused with RGB hand features by prior-guided
fusion) turns a clip into one token per frame; the tokens follow an embedded text prompt into mT5, which writes the
translation. Isolated signs, gloss sequences and sentences are all targets of the same model.

Shape letters used in comments: B batch, T frames, V keypoints (nodes) of a part, C channels, K graph subsets,
N hand crops, G PGF groups (= heads), H heads, L prompt or target tokens, D language-model width.
"""

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint
from transformers import AutoModelForSeq2SeqLM, GenerationMixin, PreTrainedModel
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import Seq2SeqLMOutput
from transformers.utils import ModelOutput, is_peft_available, logging
from transformers.utils.peft_utils import find_adapter_config_file

from .configuration_unisign import UniSignConfig, check_generation_bounds
from .keypoints import BODY_ANCHOR_NODE, HAND_PARTS, PART_EDGES, PART_NAMES
from .remote_code import add_remote_code


logger = logging.get_logger(__name__)


def normalized_adjacency(edges: list[tuple[int, int]], num_nodes: int) -> torch.Tensor:
    """Graph of one part as the reference builds it: `(2, V, V)`, self-links and neighbours, column-normalised.

    With M the 0/1 adjacency of hop <= 1 (self-loops included) and D its column sums, `N = M D^-1`; subset 0 keeps
    N's diagonal (1 / degree), subset 1 its off-diagonal entries.
    """
    adjacency = torch.eye(num_nodes, dtype=torch.float64)
    for i, j in edges:
        adjacency[i, j] = adjacency[j, i] = 1.0
    normalized = adjacency / adjacency.sum(dim=0, keepdim=True)
    self_links = torch.diag(torch.diagonal(normalized))
    return torch.stack([self_links, normalized - self_links]).to(torch.get_default_dtype())


def reset_like_pytorch(module: nn.Conv1d | nn.Conv2d | nn.Linear) -> None:
    """PyTorch's default initialisation of a convolution or linear layer, skipping weights loaded from a checkpoint."""
    init.kaiming_uniform_(module.weight, a=math.sqrt(5))
    if module.bias is not None:
        fan_in = module.weight[0].numel()
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(module.bias, -bound, bound)


def sinusoid_table(num_positions: int, dim: int) -> torch.Tensor:
    """Transformer sinusoid position table `(num_positions, dim)`: sin on even channels, cos on odd ones."""
    position = torch.arange(num_positions, dtype=torch.float64)[:, None]
    exponent = 2 * (torch.arange(dim, dtype=torch.float64) // 2) / dim
    angles = position / torch.pow(10000.0, exponent)  # (P, dim)
    table = torch.where(torch.arange(dim) % 2 == 0, torch.sin(angles), torch.cos(angles))
    return table.to(torch.get_default_dtype())


# ----------------------------------------------------------------------------------------------------------------
# Pose encoder
# ----------------------------------------------------------------------------------------------------------------


def channels_first(hidden: torch.Tensor) -> torch.Tensor:
    """`(B, T, V, C)` -> `(B, C, T, V)` view without a copy (channels-last in memory, as convolutions prefer)."""
    return hidden.permute(0, 3, 1, 2)


def channels_last(hidden: torch.Tensor) -> torch.Tensor:
    """`(B, C, T, V)` -> `(B, T, V, C)`, a view when `hidden` is channels-last in memory."""
    return hidden.permute(0, 2, 3, 1)


def batch_norm_channels_last(norm: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """Apply a `BatchNorm2d` (or its `SyncBatchNorm`) to `(B, T, V, C)` features, seen as `(B*T*V, C, 1, 1)`.

    The statistics are over the same B*T*V values per channel. In training, PyTorch's CPU kernel for this layout
    rounds the batch variance more than its channels-first kernel when a channel's mean is large against its spread
    (mean 5, std 0.1: output error 7e-5 against 4e-6 in float32); in float64 the two agree to rounding.
    """
    return norm(hidden.reshape(-1, hidden.shape[-1], 1, 1)).view(hidden.shape)


class UniSignGraphConv(nn.Module):
    """Spatial graph convolution with a learnable two-subset adjacency: `(B, T, V, C_in) -> (B, T, V, C_out)`.

    The reference's unit (a 1x1 convolution to K * C_out channels, `y[w] = sum_k sum_v x_k[v] A_k[v, w]`, batch norm,
    ReLU) as two matrix products, `sum_k A_k^T X W_k^T`: first every frame's nodes are mixed by all subsets at once
    (rows ordered (w, k), so the result is already `(B*T, V, K*C_in)`), then one product with the K weight matrices
    side by side. Mixing the nodes first costs less where C_in <= C_out (every block of the reference). The 1x1
    convolution's bias, added before the adjacency in the reference, becomes a `(V, C_out)` term.
    """

    def __init__(self, in_channels: int, out_channels: int, edges: list[tuple[int, int]], num_nodes: int):
        super().__init__()
        self.edges, self.num_nodes = edges, num_nodes
        self.num_subsets = 2
        self.conv = nn.Conv2d(in_channels, out_channels * self.num_subsets, kernel_size=1)
        self.adjacency = nn.Parameter(normalized_adjacency(edges, num_nodes))  # (K, V, V)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        batch, frames, nodes, in_channels = hidden.shape
        subsets, out_channels = self.num_subsets, self.conv.out_channels // self.num_subsets
        # shapes of parameters from the parameters, not from `hidden`: traced, they are then computed from constants
        # only, so the ONNX export folds them, and int8 quantisation converts the product with `weight`
        node_mixing = self.adjacency.permute(2, 0, 1).reshape(-1, self.num_nodes)  # row w*K + k is A_k[:, w]
        hidden = hidden.reshape(batch * frames, nodes, in_channels)
        mixed = torch.bmm(node_mixing.expand(batch * frames, -1, -1), hidden)  # (B*T, V*K, C_in), no copy of A
        # (C_out, K*C_in): the K weight matrices side by side
        weight = self.conv.weight.view(subsets, out_channels, -1).transpose(0, 1).reshape(out_channels, -1)
        bias = self.adjacency.sum(dim=1).transpose(0, 1) @ self.conv.bias.view(subsets, out_channels)  # (V, C_out)
        hidden = F.linear(mixed.view(batch * frames, nodes, subsets * in_channels), weight) + bias
        return F.relu(batch_norm_channels_last(self.norm, hidden.view(batch, frames, nodes, out_channels)))


class UniSignSTGCNBlock(GradientCheckpointingLayer):
    """ST-GCN block `(B, T, V, C_in) -> (B, T, V, C_out)`: graph conv, optional temporal conv, residual, ReLU.

    The convolutions read channels-first views of the channels-last memory (no layout copies). With gradient
    checkpointing its activations are recomputed in the backward pass (`keep_batch_norm_statistics`: the batch norms'
    running statistics are still updated once per step).
    """

    def __init__(self, in_channels, out_channels, edges, num_nodes, temporal_kernel_size: int):
        super().__init__()
        self.graph_conv = UniSignGraphConv(in_channels, out_channels, edges, num_nodes)
        self.temporal_conv = self.temporal_norm = None
        if temporal_kernel_size > 1:
            padding = ((temporal_kernel_size - 1) // 2, 0)
            self.temporal_conv = nn.Conv2d(out_channels, out_channels, (temporal_kernel_size, 1), padding=padding)
            self.temporal_norm = nn.BatchNorm2d(out_channels)
        self.residual = None
        if in_channels != out_channels:
            self.residual = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))

    def forward(self, hidden: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Apply the block.

        Args:
            hidden: `(B, T, V, C_in)` node features.
            frame_mask: `(B, T, 1, 1)`, optional: padded frames are zeroed before the temporal convolution, so that
                they act like its zero padding.
        """
        residual = hidden if self.residual is None else channels_last(self.residual(channels_first(hidden)))
        hidden = self.graph_conv(hidden)
        if self.temporal_conv is not None:
            if frame_mask is not None:
                hidden = hidden * frame_mask
            hidden = channels_last(self.temporal_conv(channels_first(hidden)))
            hidden = batch_norm_channels_last(self.temporal_norm, hidden)
        return F.relu(hidden + residual)


class UniSignPartEncoder(nn.Module):
    """Encoder of one keypoint part: per-node embedding, spatial chain, then (after fusion) temporal chain."""

    def __init__(self, config: UniSignConfig, part: str):
        super().__init__()
        edges, num_nodes = PART_EDGES[part], len(config.pose_part_indices[part])
        self.embed = nn.Linear(config.pose_input_channels, config.pose_embed_dim)
        channels = [config.pose_embed_dim, *config.pose_spatial_channels]
        self.spatial = nn.ModuleList(
            UniSignSTGCNBlock(c_in, c_out, edges, num_nodes, 1)
            for c_in, c_out in zip(channels[:-1], channels[1:], strict=True)
        )
        hidden = config.pose_hidden_size
        self.temporal = nn.ModuleList(
            UniSignSTGCNBlock(hidden, hidden, edges, num_nodes, config.pose_temporal_kernel_size)
            for _ in range(config.pose_num_temporal_blocks)
        )

    def encode_spatial(self, keypoints: torch.Tensor) -> torch.Tensor:
        """`(B, T, V, 3)` keypoints -> `(B, T, V, C)` node features."""
        hidden = self.embed(keypoints)
        for block in self.spatial:
            hidden = block(hidden)
        return hidden

    def encode_temporal(self, hidden: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """`(B, T, V, C)` node features -> `(B, T, C)` frame features (mean over nodes)."""
        for block in self.temporal:
            hidden = block(hidden, frame_mask)
        return hidden.mean(dim=2)


class UniSignPoseEncoder(nn.Module):
    """Pose encoder `(B, T, 69, 3) -> (B, T, 4 * C)`: body, hands and face, the last three told where the body is.

    Body goes first; after each other part's spatial chain (and, for hands, after RGB fusion) the body node it hangs
    from (wrist or nose) is added, detached, to all its nodes. The four part features are concatenated per frame and a
    learned part bias is added. Node features are channels-last, `(B, T, V, C)`. The reference's channels-first
    computation, which this one equals to float rounding, is kept as the tests' oracle (tests/reference_unisign.py).
    """

    def __init__(self, config: UniSignConfig):
        super().__init__()
        self.part_sizes = [len(config.pose_part_indices[part]) for part in PART_NAMES]
        self.mask_padded_frames = config.mask_padded_frames
        self.batch_hands_together = config.batch_hands_together
        self.parts = nn.ModuleDict(
            {"body": UniSignPartEncoder(config, "body"), "hand": UniSignPartEncoder(config, "right_hand")}
        )
        self.parts["face"] = UniSignPartEncoder(config, "face")
        self.part_bias = nn.Parameter(torch.zeros(len(PART_NAMES) * config.pose_hidden_size))

    def forward(
        self,
        pose_values: torch.Tensor,
        pose_attention_mask: torch.Tensor,
        hand_fusion=None,
    ) -> torch.Tensor:
        """Encode a batch of clips.

        Args:
            pose_values (`torch.FloatTensor` of shape `(batch_size, num_frames, 69, 3)`):
                Normalised parts concatenated on the node axis in `PART_NAMES` order.
            pose_attention_mask (`torch.LongTensor` of shape `(batch_size, num_frames)`):
                1 on real frames, 0 on padding.
            hand_fusion (`Callable`, *optional*):
                `hand_fusion(part, features)` returns the hand's `(B, C, T, V)` features fused with RGB.

        Returns:
            `torch.FloatTensor` of shape `(batch_size, num_frames, 4 * pose_hidden_size)`.
        """
        frame_mask = None
        if self.mask_padded_frames:
            frame_mask = pose_attention_mask.to(pose_values.dtype)[:, :, None, None]  # (B, T, 1, 1)
        parts = dict(
            zip(PART_NAMES, torch.split(pose_values, self.part_sizes, dim=2), strict=True)
        )  # each (B, T, V, 3)

        body = self.parts["body"].encode_spatial(parts["body"])  # (B, T, 9, C)
        features = {"body": self.parts["body"].encode_temporal(body, frame_mask)}

        def fused_and_anchored(part: str, hidden: torch.Tensor) -> torch.Tensor:
            """A part's spatial features, fused with RGB (hands), plus the body node it hangs from."""
            if hand_fusion is not None and part in HAND_PARTS:
                hidden = channels_last(hand_fusion(part, channels_first(hidden)))
            anchor = body.narrow(2, BODY_ANCHOR_NODE[part], 1)  # (B, T, 1, C)
            return hidden + anchor.detach()  # no gradient into the body through this path

        hand = self.parts["hand"]  # the two hands share one encoder (the reference's right-hand modules)
        if self.batch_hands_together:  # one batch: the same batch-norm statistics for both hands in training
            hidden = hand.encode_spatial(torch.cat([parts[part] for part in HAND_PARTS]))
            hidden = torch.cat([fused_and_anchored(p, h) for p, h in zip(HAND_PARTS, hidden.chunk(2), strict=True)])
            both_masks = None if frame_mask is None else torch.cat([frame_mask, frame_mask])
            features.update(zip(HAND_PARTS, hand.encode_temporal(hidden, both_masks).chunk(2), strict=True))
        else:
            for part in HAND_PARTS:
                hidden = fused_and_anchored(part, hand.encode_spatial(parts[part]))
                features[part] = hand.encode_temporal(hidden, frame_mask)
        face = self.parts["face"]
        hidden = fused_and_anchored("face", face.encode_spatial(parts["face"]))
        features["face"] = face.encode_temporal(hidden, frame_mask)
        return torch.cat([features[part] for part in PART_NAMES], dim=-1) + self.part_bias  # (B, T, 4C)


# ----------------------------------------------------------------------------------------------------------------
# RGB hand branch
# ----------------------------------------------------------------------------------------------------------------


class UniSignHandImageEncoder(GradientCheckpointingLayer):
    """Hand crops `(N, 3, 112, 112)` -> feature maps `(N, C, 4, 4)`: EfficientNet-B0 features and a 1x1 projection.

    With gradient checkpointing the backbone's activations, the largest of the RGB branch, are recomputed.
    """

    def __init__(self, config: UniSignConfig):
        super().__init__()
        try:
            import torchvision
        except ImportError:
            raise ImportError(
                "The RGB branch of Uni-Sign (`use_rgb=True`) needs torchvision: `pip install torchvision`."
            ) from None
        if config.rgb_backbone != "efficientnet_b0":
            raise NotImplementedError(
                "Only the reference backbone `efficientnet_b0` is supported, got "
                f"`rgb_backbone={config.rgb_backbone}`."
            )
        self.backbone = torchvision.models.efficientnet_b0(weights=None).features
        self.projection = nn.Conv2d(config.rgb_backbone_channels, config.pose_hidden_size, kernel_size=1)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.projection(self.backbone(pixel_values))


class UniSignPriorGuidedFusion(nn.Module):
    """Prior-guided fusion (PGF): hand node features `(N, C, 21)` enriched by their crop's features `(N, C, h, w)`.

    1. Cross-attention from the nodes (plus a random-Fourier encoding of their keypoint priors) to the crop cells
       (plus a sinusoid table).
    2. Deformable sampling: each of G groups predicts per-node offsets around the keypoint prior and samples the
       crop's features there (bilinear, zero padding).
    3. Attention of each node over the sampled points, with a continuous relative position bias (SwinV2 style).
    4. A per-node gate, zero at initialisation, mixes the result into the pose features.
    """

    def __init__(self, config: UniSignConfig):
        super().__init__()
        dim = config.pose_hidden_size
        self.num_groups, self.head_dim = config.pgf_num_heads, config.pgf_head_dim
        self.offset_scale = config.pgf_offset_scale
        num_cells = config.rgb_feature_size**2

        self.cross_attention = nn.MultiheadAttention(dim, config.pgf_num_heads, batch_first=True)
        self.register_buffer("prior_frequencies", torch.empty(2, dim // 2))  # fixed random Fourier features
        self.register_buffer("cell_positions", sinusoid_table(num_cells, dim), persistent=False)  # (h*w, C)

        self.to_q = nn.Conv1d(dim, dim, 1, groups=self.num_groups, bias=False)
        self.offset_net = nn.Sequential(
            nn.Conv1d(self.head_dim, self.head_dim, 1, groups=self.head_dim),
            nn.GELU(),
            nn.Conv1d(self.head_dim, 2, 1, bias=False),
            nn.Tanh(),
        )
        self.to_k = nn.Conv1d(dim, dim, 1, groups=self.num_groups, bias=False)
        self.to_v = nn.Conv1d(dim, dim, 1, groups=self.num_groups, bias=False)
        self.position_bias = nn.Sequential(
            nn.Linear(2, config.pgf_position_bias_dim),
            nn.ReLU(),
            nn.Linear(config.pgf_position_bias_dim, config.pgf_position_bias_dim),
            nn.ReLU(),
            nn.Linear(config.pgf_position_bias_dim, 1),
        )
        self.to_out = nn.Conv1d(dim, dim, 1)
        self.gate = nn.Sequential(nn.Conv1d(2 * dim, dim, 1), nn.GELU(), nn.Conv1d(dim, 1, 1), nn.Tanh(), nn.ReLU())

    def encode_priors(self, priors: torch.Tensor) -> torch.Tensor:
        """Random Fourier features of keypoint priors: `(N, V, 2)` in [0, 1] -> `(N, V, C)`."""
        angles = 2 * math.pi * ((2 * priors - 1) @ self.prior_frequencies)  # (N, V, C/2)
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)

    def forward(self, pose: torch.Tensor, image: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
        """Fuse each crop into its hand's node features.

        Args:
            pose (`torch.FloatTensor` of shape `(num_crops, hidden_size, 21)`): hand node features of cropped frames.
            image (`torch.FloatTensor` of shape `(num_crops, hidden_size, height, width)`): projected crop features.
            priors (`torch.FloatTensor` of shape `(num_crops, 21, 2)`): keypoints in crop units, in [0, 1].

        Returns:
            `torch.FloatTensor` of shape `(num_crops, hidden_size, 21)`.
        """
        crops, dim, nodes = pose.shape
        groups, head_dim = self.num_groups, self.head_dim

        # 1. cross-attention: nodes (queries) look at the crop's cells
        queries = pose.transpose(1, 2) + self.encode_priors(priors.detach())  # (N, V, C)
        cells = image.flatten(2).transpose(1, 2) + self.cell_positions  # (N, h*w, C)
        context = self.cross_attention(queries, cells, cells, need_weights=False)[0].transpose(1, 2)  # (N, C, V)

        # 2. deformable sampling around the keypoint priors, one offset net shared by the groups
        q = self.to_q(pose + context)  # (N, C, V)
        offsets = self.offset_scale * self.offset_net(q.reshape(crops * groups, head_dim, nodes))  # (N*G, 2, V)
        reference = (2 * priors - 1).repeat_interleave(groups, dim=0)  # (N*G, V, 2), grid_sample's [-1, 1] (x, y)
        sample_points = reference + offsets.transpose(1, 2)  # (N*G, V, 2)
        grouped_image = image.reshape(crops * groups, head_dim, *image.shape[-2:])  # (N*G, C/G, h, w)
        sampled = F.grid_sample(
            grouped_image, sample_points[:, None], mode="bilinear", padding_mode="zeros", align_corners=False
        )  # (N*G, C/G, 1, V)
        sampled = sampled.reshape(crops, dim, nodes)  # (N, C, V)

        # 3. attention over the sampled points with a continuous relative position bias
        def heads(x):  # (N, C, V) -> (N, G, V, C/G)
            return x.reshape(crops, groups, head_dim, nodes).transpose(2, 3)

        scores = heads(q * head_dim**-0.5) @ heads(self.to_k(sampled)).transpose(2, 3)  # (N, G, V, V)
        distance = reference[:, :, None] - sample_points[:, None]  # (N*G, V, V, 2)
        bias = self.position_bias(torch.sign(distance) * torch.log1p(distance.abs()))  # (N*G, V, V, 1)
        scores = scores + bias.reshape(crops, groups, nodes, nodes)
        attended = scores.softmax(dim=-1) @ heads(self.to_v(sampled))  # (N, G, V, C/G)
        fused = self.to_out(attended.transpose(2, 3).reshape(crops, dim, nodes))  # (N, C, V)

        # 4. gate: 0 keeps the pose features, 1 takes the fused ones
        gate = self.gate(torch.cat([fused, pose], dim=1))  # (N, 1, V)
        return gate * fused + (1 - gate) * pose


# ----------------------------------------------------------------------------------------------------------------
# Pre-trained model and the conditional-generation head
# ----------------------------------------------------------------------------------------------------------------


def check_pose_input_shapes(config, input_ids, attention_mask, pose_values, pose_attention_mask) -> None:
    """Raise a clear `ValueError` unless the pose and prompt tensors have the shapes `config` expects.

    Shapes only (free: no wait for the accelerator). Used by the model and by its ONNX export's runtime.

    Args:
        config (`UniSignConfig`): The model's config (`num_pose_nodes`, `pose_input_channels`).
        input_ids (`torch.LongTensor` of shape `(batch_size, prompt_length)`): The tokenised prompt.
        attention_mask (`torch.LongTensor` of shape `(batch_size, prompt_length)`, *optional*): Its mask.
        pose_values (`torch.FloatTensor` of shape `(batch_size, num_frames, num_pose_nodes, pose_input_channels)`).
        pose_attention_mask (`torch.LongTensor` of shape `(batch_size, num_frames)`): 1 on real frames.
    """
    if input_ids is None:
        raise ValueError(
            "`input_ids` (the tokenised prompt, e.g. 'Translate sign language video to English: </s>') is "
            "required; `UniSignProcessor` makes it."
        )
    if pose_values is None:
        raise ValueError("`pose_values` of shape (batch_size, num_frames, num_keypoints, 3) is required.")
    expected_nodes, channels = config.num_pose_nodes, config.pose_input_channels
    if pose_values.dim() != 4 or pose_values.shape[2:] != (expected_nodes, channels):
        raise ValueError(
            f"`pose_values` must have shape (batch_size, num_frames, {expected_nodes}, {channels}) (keypoints of "
            f"the parts {list(PART_NAMES)} with x, y, score), got {tuple(pose_values.shape)}."
        )
    batch_size, num_frames = pose_values.shape[:2]
    if num_frames == 0:
        raise ValueError("`pose_values` has zero frames: a clip needs at least one frame.")
    if input_ids.dim() != 2 or input_ids.shape[0] != batch_size:
        raise ValueError(
            f"`input_ids` must have shape (batch_size={batch_size}, prompt_length), got {tuple(input_ids.shape)}."
        )
    if attention_mask is not None and attention_mask.shape != input_ids.shape:
        raise ValueError(
            f"`attention_mask` must match `input_ids` {tuple(input_ids.shape)}, got {tuple(attention_mask.shape)}."
        )
    if pose_attention_mask.shape != (batch_size, num_frames):
        raise ValueError(
            f"`pose_attention_mask` must have shape (batch_size, num_frames) = {(batch_size, num_frames)}, got "
            f"{tuple(pose_attention_mask.shape)}."
        )


def check_pose_input_values(pose_values, pose_attention_mask) -> torch.Tensor:
    """Raise a clear `ValueError` for non-finite poses or a frame mask that is not a prefix of ones per clip.

    Reads tensor values (waits for the accelerator). Returns the real frames per clip, shape `(batch_size,)`.
    """
    batch_size, num_frames = pose_values.shape[:2]
    if not torch.isfinite(pose_values).all():
        raise ValueError("`pose_values` contains NaN or inf; the processor maps missing keypoints to 0.")
    frames_per_clip = pose_attention_mask.sum(dim=1)
    is_prefix = pose_attention_mask == (torch.arange(num_frames, device=pose_values.device) < frames_per_clip[:, None])
    if not is_prefix.all() or (frames_per_clip == 0).any():
        raise ValueError(
            "`pose_attention_mask` must be 1 on each clip's real frames and 0 on the padding after them, with at "
            "least one real frame per clip."
        )
    return frames_per_clip


def keep_batch_norm_statistics(checkpoint_function: Callable) -> Callable:
    """`checkpoint_function`, its recomputation of a layer leaving the batch-norm running statistics as they were.

    A checkpointed layer runs twice per step: in the forward pass, and again in the backward pass to recompute its
    activations. Its batch norms would update their running mean and variance (and batch count) at both, so a run with
    gradient checkpointing would give another eval-mode model than the same run without. The recomputation normalises
    with the batch's statistics, not the running ones: it runs with momentum 0, which keeps the running statistics
    exactly (autograd may hold them, so they are not written afterwards), and the batch count is put back.
    """

    def checkpointed(function: Callable, *args, **kwargs):
        # `GradientCheckpointingLayer` checkpoints `partial(forward, layer, **kwargs)`
        layer = function.args[0] if isinstance(function, partial) and function.args else None
        modules = layer.modules() if isinstance(layer, nn.Module) else ()
        norms = [m for m in modules if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
        calls = 0

        def run(*inputs):
            nonlocal calls
            calls += 1
            if calls == 1 or not norms:  # the forward pass (or a layer without batch norm)
                return function(*inputs)
            saved = [(norm.momentum, norm.num_batches_tracked.clone()) for norm in norms]
            for norm in norms:
                norm.momentum = 0.0
            try:
                return function(*inputs)
            finally:
                for norm, (momentum, count) in zip(norms, saved, strict=True):
                    norm.momentum = momentum
                    norm.num_batches_tracked.copy_(count)

        return checkpoint_function(run, *args, **kwargs)

    return checkpointed


class UniSignPreTrainedModel(PreTrainedModel):
    """Weight initialisation and loading conventions shared by Uni-Sign models."""

    config: UniSignConfig
    base_model_prefix = "unisign"
    main_input_name = "pose_values"
    supports_gradient_checkpointing = True
    _no_split_modules = ["UniSignPoseEncoder", "UniSignHandImageEncoder", "MT5Block"]
    _keep_in_fp32_modules = ["wo"]
    # Trainer must not pass `num_items_in_batch`: the loss is already a mean over target tokens.
    accepts_loss_kwargs = False
    _tied_weights_keys = {
        "language_model.encoder.embed_tokens.weight": "language_model.shared.weight",
        "language_model.decoder.embed_tokens.weight": "language_model.shared.weight",
    }

    def save_pretrained(self, save_directory, *args, is_main_process: bool = True, **kwargs):
        """`PreTrainedModel.save_pretrained`, then `add_remote_code`: the folder loads without this package."""
        result = super().save_pretrained(save_directory, *args, is_main_process=is_main_process, **kwargs)
        if is_main_process:
            add_remote_code(save_directory)
        return result

    def _set_gradient_checkpointing(
        self, enable: bool = True, gradient_checkpointing_func: Callable = checkpoint, every_n_layers: int = 1
    ):
        """`PreTrainedModel._set_gradient_checkpointing`, the recomputation keeping the batch-norm statistics."""
        function = keep_batch_norm_statistics(gradient_checkpointing_func)
        super()._set_gradient_checkpointing(enable, function, every_n_layers)

    @torch.no_grad()
    def _init_weights(self, module: nn.Module):
        """Initialise as the reference does: pose linears truncated normal, everything else PyTorch's defaults."""
        std = self.config.initializer_range
        if isinstance(module, UniSignForConditionalGeneration):
            init.trunc_normal_(module.pose_projection.weight, std=std)
            init.zeros_(module.pose_projection.bias)
        elif isinstance(module, UniSignPoseEncoder):
            init.zeros_(module.part_bias)
        elif isinstance(module, UniSignPartEncoder):
            init.trunc_normal_(module.embed.weight, std=std)
            init.zeros_(module.embed.bias)
        elif isinstance(module, UniSignGraphConv):
            init.copy_(module.adjacency, normalized_adjacency(module.edges, module.num_nodes))
        elif isinstance(module, UniSignPriorGuidedFusion):
            init.normal_(module.prior_frequencies)
            init.copy_(module.cell_positions, sinusoid_table(*module.cell_positions.shape))
            # a zero gate makes a new RGB branch start as the identity on the pose features (stage 2 = stage 1)
            for conv in (module.gate[0], module.gate[2]):
                init.zeros_(conv.weight)
                init.zeros_(conv.bias)
        elif isinstance(module, UniSignHandImageEncoder):
            # torchvision's EfficientNet initialisation (the reference then loads ImageNet weights into it)
            for layer in module.backbone.modules():
                if isinstance(layer, nn.Conv2d):
                    init.kaiming_normal_(layer.weight, mode="fan_out")
                    if layer.bias is not None:
                        init.zeros_(layer.bias)
        elif isinstance(module, nn.MultiheadAttention):
            init.xavier_uniform_(module.in_proj_weight)
            init.zeros_(module.in_proj_bias)
            init.zeros_(module.out_proj.bias)
        elif isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            reset_like_pytorch(module)
        elif isinstance(module, nn.BatchNorm2d):
            init.ones_(module.weight)
            init.zeros_(module.bias)
            init.zeros_(module.running_mean)
            init.ones_(module.running_var)
            init.zeros_(module.num_batches_tracked)


@dataclass
class UniSignEncoderInputs(ModelOutput):
    """What the language model's encoder reads (the output of `embed_inputs`).

    Args:
        inputs_embeds (`torch.FloatTensor` of shape `(batch_size, prompt_length + num_frames, d_model)`):
            Prompt embeddings followed by one pose token per frame.
        attention_mask (`torch.LongTensor` of shape `(batch_size, prompt_length + num_frames)`):
            Prompt mask followed by the frame mask.
    """

    inputs_embeds: torch.FloatTensor | None = None
    attention_mask: torch.LongTensor | None = None


class UniSignForConditionalGeneration(UniSignPreTrainedModel, GenerationMixin):
    """Uni-Sign: keypoints (and optional hand crops) -> text, with mT5.

    Example:
    ```python
    >>> from unisign import UniSignForConditionalGeneration, UniSignProcessor

    >>> model = UniSignForConditionalGeneration.from_pretrained("path/to/checkpoint")
    >>> processor = UniSignProcessor.from_pretrained("path/to/checkpoint")
    >>> inputs = processor(poses=[sample], lang="en", return_tensors="pt")
    >>> text = processor.batch_decode(model.generate(**inputs), skip_special_tokens=True)
    ```
    """

    def __init__(self, config: UniSignConfig):
        super().__init__(config)
        config.validate_architecture()  # again: `from_pretrained(..., use_rgb=True)` sets fields after validation
        self.pose_encoder = UniSignPoseEncoder(config)
        self.pose_projection = nn.Linear(len(PART_NAMES) * config.pose_hidden_size, config.text_config.d_model)
        self.hand_image_encoder = UniSignHandImageEncoder(config) if config.use_rgb else None
        self.prior_guided_fusion = UniSignPriorGuidedFusion(config) if config.use_rgb else None
        self.language_model = AutoModelForSeq2SeqLM.from_config(config.text_config)
        # mT5 shares one input embedding between `shared`, encoder and decoder; lm_head stays its own matrix.
        self.language_model.set_input_embeddings(self.language_model.shared)
        self.post_init()
        self.generation_config.num_beams = 4
        self.generation_config.max_new_tokens = 100

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *model_args, **kwargs):
        """`PreTrainedModel.from_pretrained`, refusing a folder with a LoRA adapter beside its base without PEFT.

        A LoRA export that carries its base (`config.json`, the base's weights and `adapter_config.json`) loads as
        the base with the adapter on it; without PEFT installed, transformers would load the base alone, a different
        model, without a word.
        """
        if not is_peft_available() and pretrained_model_name_or_path is not None:
            names = ("cache_dir", "revision", "token", "local_files_only", "subfolder")
            hub = {name: kwargs[name] for name in names if kwargs.get(name) is not None}
            if find_adapter_config_file(str(pretrained_model_name_or_path), **hub):
                raise ImportError(
                    f"`{pretrained_model_name_or_path}` holds a LoRA adapter beside its base model: loading it needs "
                    "PEFT (`pip install peft`)."
                )
        return super().from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)

    def get_input_embeddings(self) -> nn.Module:
        """The language model's shared token embedding."""
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module):
        """Replace the language model's shared token embedding."""
        self.language_model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module:
        """The language model's `lm_head`."""
        return self.language_model.get_output_embeddings()

    def get_encoder(self):
        """The language model's encoder."""
        return self.language_model.get_encoder()

    # -- inputs -----------------------------------------------------------------------------------------------------

    def _check_inputs(self, input_ids, attention_mask, pose_values, pose_attention_mask, hand_inputs):
        """Raise a clear `ValueError` on inputs that would otherwise fail deep inside or give silent garbage.

        Shapes are checked on every call (free: no wait for the accelerator); values only with
        `config.check_input_values` (see `_check_input_values`).
        """
        check_pose_input_shapes(self.config, input_ids, attention_mask, pose_values, pose_attention_mask)
        if hand_inputs is None:
            if self.prior_guided_fusion is not None:
                raise ValueError(
                    "This RGB-pose model (`config.use_rgb=True`) needs hand crops (`hand_*` inputs, from the "
                    "processor given `frames=` or `videos=`); without them it would silently run pose-only."
                )
        else:
            if self.prior_guided_fusion is None:
                raise ValueError("Hand crops were given but this model has no RGB branch (`config.use_rgb=False`).")
            pixels, priors, frame_indices, sample_indices, sides = hand_inputs
            num_crops = pixels.shape[0]
            crop = self.config.rgb_crop_size
            if pixels.shape[1:] != (3, crop, crop) or priors.shape != (num_crops, 21, 2):
                raise ValueError(
                    f"Expected `hand_pixel_values` (N, 3, {crop}, {crop}) and `hand_keypoints` (N, 21, 2), got "
                    f"{tuple(pixels.shape)} and {tuple(priors.shape)}."
                )
            if any(t.shape != (num_crops,) for t in (frame_indices, sample_indices, sides)):
                raise ValueError(
                    f"`hand_frame_indices`, `hand_sample_indices` and `hand_sides` must each have shape "
                    f"({num_crops},)."
                )
        if self.config.check_input_values:
            self._check_input_values(pose_values, pose_attention_mask, hand_inputs)

    def _check_input_values(self, pose_values, pose_attention_mask, hand_inputs):
        """The checks of `_check_inputs` that read tensor values (each waits for the accelerator)."""
        batch_size, num_frames = pose_values.shape[:2]
        frames_per_clip = check_pose_input_values(pose_values, pose_attention_mask)
        if hand_inputs is None:
            return
        pixels, priors, frame_indices, sample_indices, sides = hand_inputs
        if not (torch.isfinite(pixels).all() and torch.isfinite(priors).all()):
            raise ValueError("`hand_pixel_values` or `hand_keypoints` contains NaN or inf.")
        if ((sides != 0) & (sides != 1)).any():
            raise ValueError("`hand_sides` must be 0 (left hand) or 1 (right hand).")
        if ((sample_indices < 0) | (sample_indices >= batch_size)).any():
            raise ValueError(f"`hand_sample_indices` must lie in [0, {batch_size}).")
        used = frame_indices >= 0
        if (frame_indices < -1).any() or (frame_indices[used] >= frames_per_clip[sample_indices[used]]).any():
            raise ValueError(
                "`hand_frame_indices` must be -1 (no usable hand) or the index of a real frame of its clip."
            )
        keys = (sides[used] * batch_size + sample_indices[used]) * num_frames + frame_indices[used]
        if keys.unique().numel() != keys.numel():
            raise ValueError("Two hand crops were given for the same hand, clip and frame.")

    def fuse_hand_images(
        self,
        part: str,
        hand_features: torch.Tensor,
        hand_inputs: tuple[torch.Tensor, ...],
        image_features: dict[str, torch.Tensor],
    ) -> torch.Tensor:
        """Replace the features of the frames that have a crop of this hand by their PGF fusion (whole batch at once).

        Args:
            part: `"left_hand"` or `"right_hand"`.
            hand_features: `(B, C, T, 21)` node features after the hand's spatial chain.
            hand_inputs: `(pixels, priors, frame_indices, sample_indices, sides)` of all crops.
            image_features: per hand, the projected crop features `(N_hand, C, h, w)` of its crops.
        """
        _, priors, frame_indices, sample_indices, sides = hand_inputs
        of_side = sides == HAND_PARTS.index(part)
        used = frame_indices[of_side] >= 0  # crops of index -1 stand for "no usable hand"
        if not used.any():
            return hand_features
        rows, frames = sample_indices[of_side][used], frame_indices[of_side][used]
        by_frame = hand_features.permute(0, 2, 1, 3)  # (B, T, C, V)
        fused = self.prior_guided_fusion(by_frame[rows, frames], image_features[part][used], priors[of_side][used])
        return by_frame.index_put((rows, frames), fused).permute(0, 2, 1, 3)  # (B, C, T, V)

    def embed_inputs(
        self,
        input_ids: torch.LongTensor,
        pose_values: torch.FloatTensor,
        pose_attention_mask: torch.LongTensor | None = None,
        attention_mask: torch.LongTensor | None = None,
        hand_pixel_values: torch.FloatTensor | None = None,
        hand_keypoints: torch.FloatTensor | None = None,
        hand_frame_indices: torch.LongTensor | None = None,
        hand_sample_indices: torch.LongTensor | None = None,
        hand_sides: torch.LongTensor | None = None,
    ) -> UniSignEncoderInputs:
        """Build the language model's encoder input: `[prompt embeddings ; one pose token per frame]`.

        Args:
            input_ids (`torch.LongTensor` of shape `(batch_size, prompt_length)`):
                Tokenised prompt, with its `</s>`.
            pose_values (`torch.FloatTensor` of shape `(batch_size, num_frames, 69, 3)`):
                Normalised body (9), left hand (21), right hand (21) and face (18) keypoints as (x, y, score).
            pose_attention_mask (`torch.LongTensor` of shape `(batch_size, num_frames)`, *optional*):
                1 on real frames, 0 on padding (which must come after the real frames). Defaults to all ones.
            attention_mask (`torch.LongTensor` of shape `(batch_size, prompt_length)`, *optional*):
                Prompt mask. Defaults to all ones.
            hand_pixel_values (`torch.FloatTensor` of shape `(num_crops, 3, 112, 112)`, *optional*):
                ImageNet-normalised hand crops of the whole batch (RGB-pose models).
            hand_keypoints (`torch.FloatTensor` of shape `(num_crops, 21, 2)`, *optional*):
                The hand's keypoints in crop units, in [0, 1].
            hand_frame_indices (`torch.LongTensor` of shape `(num_crops,)`, *optional*):
                Frame of each crop in its clip; -1 for a placeholder crop of a hand never seen well enough.
            hand_sample_indices (`torch.LongTensor` of shape `(num_crops,)`, *optional*):
                Batch row of each crop.
            hand_sides (`torch.LongTensor` of shape `(num_crops,)`, *optional*):
                0 for the left hand, 1 for the right hand.

        Returns:
            [`UniSignEncoderInputs`].
        """
        if pose_values is not None and pose_attention_mask is None:
            pose_attention_mask = torch.ones(pose_values.shape[:2], dtype=torch.long, device=pose_values.device)
        hand_tensors = (hand_pixel_values, hand_keypoints, hand_frame_indices, hand_sample_indices, hand_sides)
        if all(t is None for t in hand_tensors):
            hand_inputs = None
        elif any(t is None for t in hand_tensors):
            raise ValueError(
                "Hand crops need all of `hand_pixel_values`, `hand_keypoints`, `hand_frame_indices`, "
                "`hand_sample_indices` and `hand_sides`."
            )
        else:
            hand_inputs = hand_tensors
        self._check_inputs(input_ids, attention_mask, pose_values, pose_attention_mask, hand_inputs)
        # float32 inputs from the processor run in the model's dtype (a bf16 model takes them as they come)
        dtype = self.pose_projection.weight.dtype
        pose_values = pose_values.to(dtype)
        if hand_inputs is not None:
            hand_pixel_values, hand_keypoints = hand_pixel_values.to(dtype), hand_keypoints.to(dtype)
            hand_inputs = (hand_pixel_values, hand_keypoints, *hand_inputs[2:])

        hand_fusion = None
        if hand_inputs is not None:
            # one backbone call per hand, as in the reference (batch-norm statistics in training depend on it)
            image_features = {
                part: self.hand_image_encoder(hand_pixel_values[hand_sides == side])
                for side, part in enumerate(HAND_PARTS)
            }

            def hand_fusion(part, features):
                return self.fuse_hand_images(part, features, hand_inputs, image_features)

        pose_features = self.pose_encoder(pose_values, pose_attention_mask, hand_fusion)  # (B, T, 4C)
        pose_tokens = self.pose_projection(pose_features)  # (B, T, D)
        prompt = self.language_model.get_input_embeddings()(input_ids)  # (B, L, D)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        return UniSignEncoderInputs(
            inputs_embeds=torch.cat([prompt, pose_tokens.to(prompt.dtype)], dim=1),  # (B, L + T, D)
            attention_mask=torch.cat([attention_mask, pose_attention_mask.to(attention_mask.dtype)], dim=1),
        )

    # -- training and generation ------------------------------------------------------------------------------------

    def forward(
        self,
        pose_values: torch.FloatTensor | None = None,
        pose_attention_mask: torch.LongTensor | None = None,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.LongTensor | None = None,
        hand_pixel_values: torch.FloatTensor | None = None,
        hand_keypoints: torch.FloatTensor | None = None,
        hand_frame_indices: torch.LongTensor | None = None,
        hand_sample_indices: torch.LongTensor | None = None,
        hand_sides: torch.LongTensor | None = None,
        labels: torch.LongTensor | None = None,
        decoder_input_ids: torch.LongTensor | None = None,
        decoder_attention_mask: torch.LongTensor | None = None,
        encoder_outputs: tuple | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        decoder_inputs_embeds: torch.FloatTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> Seq2SeqLMOutput | tuple:
        """Run the whole model; with `labels`, also the label-smoothed loss.

        Args:
            pose_values, pose_attention_mask, input_ids, attention_mask, hand_*:
                See [`~UniSignForConditionalGeneration.embed_inputs`].
            labels (`torch.LongTensor` of shape `(batch_size, target_length)`, *optional*):
                Target token ids, -100 where ignored. The decoder input is the labels shifted right.
            decoder_input_ids, decoder_attention_mask, encoder_outputs, decoder_inputs_embeds, use_cache:
                As for mT5.
            inputs_embeds (`torch.FloatTensor` of shape `(batch_size, length, d_model)`, *optional*):
                A ready encoder input (from `embed_inputs`), used instead of the prompt and the poses.
            return_dict (`bool`, *optional*): `False` returns the output's fields as a tuple (loss first when given);
                defaults to `config.return_dict`.

        Returns:
            [`~transformers.modeling_outputs.Seq2SeqLMOutput`] (or a tuple); `loss` is the cross-entropy with
            `config.label_smoothing`, averaged over the target tokens that are not -100.
        """
        if encoder_outputs is None and inputs_embeds is None:
            encoder_inputs = self.embed_inputs(
                input_ids,
                pose_values,
                pose_attention_mask,
                attention_mask,
                hand_pixel_values,
                hand_keypoints,
                hand_frame_indices,
                hand_sample_indices,
                hand_sides,
            )
            inputs_embeds, attention_mask = encoder_inputs.inputs_embeds, encoder_inputs.attention_mask
        if labels is not None:  # the loss would broadcast a batch of the wrong size (shapes only: no device sync)
            batch_size = inputs_embeds.shape[0] if inputs_embeds is not None else encoder_outputs[0].shape[0]
            if labels.shape[0] != batch_size:
                raise ValueError(f"`labels` has {labels.shape[0]} rows but the inputs have {batch_size} clips.")
        if labels is not None and decoder_input_ids is None and decoder_inputs_embeds is None:
            decoder_input_ids = self.language_model.prepare_decoder_input_ids_from_labels(labels)
        outputs = self.language_model(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            decoder_input_ids=decoder_input_ids,
            decoder_attention_mask=decoder_attention_mask,
            decoder_inputs_embeds=decoder_inputs_embeds,
            encoder_outputs=encoder_outputs,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            **kwargs,
        )
        if labels is not None:
            logits = outputs.logits
            loss = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]).float(),
                labels.to(logits.device).reshape(-1),
                ignore_index=-100,
                label_smoothing=self.config.label_smoothing,
            )
            outputs = Seq2SeqLMOutput(loss=loss, **outputs)  # loss first, also in `to_tuple()`
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        return outputs if return_dict else outputs.to_tuple()

    @torch.no_grad()
    def generate(
        self,
        pose_values: torch.FloatTensor | None = None,
        pose_attention_mask: torch.LongTensor | None = None,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.LongTensor | None = None,
        hand_pixel_values: torch.FloatTensor | None = None,
        hand_keypoints: torch.FloatTensor | None = None,
        hand_frame_indices: torch.LongTensor | None = None,
        hand_sample_indices: torch.LongTensor | None = None,
        hand_sides: torch.LongTensor | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        **generate_kwargs,
    ) -> torch.LongTensor:
        """Translate clips: beam search with 4 beams and up to 100 new tokens unless told otherwise.

        Args:
            pose_values, pose_attention_mask, input_ids, attention_mask, hand_*:
                See [`~UniSignForConditionalGeneration.embed_inputs`].
            inputs_embeds (`torch.FloatTensor`, *optional*):
                A ready encoder input from `embed_inputs` (then `attention_mask` is its full mask).
            generate_kwargs:
                Anything `transformers` generation takes (`num_beams`, `max_new_tokens`, `do_sample`, ...).

        Returns:
            `torch.LongTensor` of shape `(batch_size * num_return_sequences, generated_length)`, starting with the
            decoder start token.
        """
        generate_kwargs.pop("labels", None)  # Seq2SeqTrainer(predict_with_generate=True) passes them along
        generate_kwargs.pop("decoder_input_ids", None)
        generate_kwargs.pop("decoder_attention_mask", None)
        if inputs_embeds is None:
            encoder_inputs = self.embed_inputs(
                input_ids,
                pose_values,
                pose_attention_mask,
                attention_mask,
                hand_pixel_values,
                hand_keypoints,
                hand_frame_indices,
                hand_sample_indices,
                hand_sides,
            )
            inputs_embeds, attention_mask = encoder_inputs.inputs_embeds, encoder_inputs.attention_mask
        # our defaults (4 beams, 100 new tokens) with the caller's settings on top, handed over as one config
        generation_config = copy.deepcopy(generate_kwargs.pop("generation_config", None) or self.generation_config)
        other_kwargs = generation_config.update(**generate_kwargs)
        check_generation_bounds(generation_config)
        return self.language_model.generate(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            generation_config=generation_config,
            **other_kwargs,
        )


__all__ = ["UniSignForConditionalGeneration", "UniSignPreTrainedModel"]
