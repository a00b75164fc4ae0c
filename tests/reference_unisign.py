"""The reference implementation of the pose encoder: the oracle that the model's own implementation is checked against.

`UniSignPoseEncoder` (src/unisign/models/unisign/modeling_unisign.py) runs channels-last, with each graph convolution
as two matrix products. This file computes the same function the way the reference does (../shared/reference/
UNISIGN.md §2): channels-first `(B, C, T, V)` features, a 1x1 convolution split into K subsets, then
`y[n,c,t,w] = sum_k sum_v x_k[n,c,t,v] A_k[v,w]`, batch norms over `(B, C, T, V)`, and the parts in the reference's
order (body, left hand, right hand, face), each its own call. It sums in the reference's order, so it reproduces the
golden values more tightly than the model in float32 training (tests/test_golden_parity.py).

It holds the same parameters and buffers under the same names as `UniSignPoseEncoder`, so either loads the other's
state dict. Besides the reference it knows `mask_padded_frames` (a product before each temporal convolution), so that
the parity tests cover that setting too. Used by tests/test_fast_path.py, tests/test_golden_parity.py and
`benchmarks/model_speed.py --oracle`.
"""

import copy

import torch
import torch.nn.functional as F
from torch import nn

from unisign import UniSignConfig, UniSignForConditionalGeneration
from unisign.models.unisign.keypoints import BODY_ANCHOR_NODE, HAND_PARTS, PART_EDGES, PART_NAMES
from unisign.models.unisign.modeling_unisign import normalized_adjacency


class ReferenceGraphConv(nn.Module):
    """The reference's GCN unit: `(B, C_in, T, V) -> (B, C_out, T, V)`."""

    def __init__(self, in_channels: int, out_channels: int, edges: list[tuple[int, int]], num_nodes: int):
        super().__init__()
        self.num_subsets = 2
        self.conv = nn.Conv2d(in_channels, out_channels * self.num_subsets, kernel_size=1)
        self.adjacency = nn.Parameter(normalized_adjacency(edges, num_nodes))  # (K, V, V)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        batch, _, frames, nodes = hidden.shape
        hidden = self.conv(hidden).view(batch, self.num_subsets, -1, frames, nodes)  # (B, K, C, T, V)
        hidden = torch.einsum("bkctv,kvw->bctw", hidden, self.adjacency)  # (B, C, T, V)
        return F.relu(self.norm(hidden))


class ReferenceSTGCNBlock(nn.Module):
    """The reference's ST-GCN block: `(B, C_in, T, V) -> (B, C_out, T, V)`."""

    def __init__(self, in_channels: int, out_channels: int, edges, num_nodes: int, temporal_kernel_size: int):
        super().__init__()
        self.graph_conv = ReferenceGraphConv(in_channels, out_channels, edges, num_nodes)
        self.temporal_conv = self.temporal_norm = None
        if temporal_kernel_size > 1:
            padding = ((temporal_kernel_size - 1) // 2, 0)
            self.temporal_conv = nn.Conv2d(out_channels, out_channels, (temporal_kernel_size, 1), padding=padding)
            self.temporal_norm = nn.BatchNorm2d(out_channels)
        self.residual = None
        if in_channels != out_channels:
            self.residual = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))

    def forward(self, hidden: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """`(B, C_in, T, V) -> (B, C_out, T, V)`; `frame_mask` `(B, 1, T, 1)` (optional, not in the reference) zeroes
        padded frames before the temporal convolution."""
        residual = hidden if self.residual is None else self.residual(hidden)
        hidden = self.graph_conv(hidden)
        if self.temporal_conv is not None:
            if frame_mask is not None:
                hidden = hidden * frame_mask
            hidden = self.temporal_norm(self.temporal_conv(hidden))
        return F.relu(hidden + residual)


class ReferencePartEncoder(nn.Module):
    """One part: `Linear(3 -> C)` per node, the spatial chain, then (after fusion) the temporal chain."""

    def __init__(self, config: UniSignConfig, part: str):
        super().__init__()
        edges, num_nodes = PART_EDGES[part], len(config.pose_part_indices[part])
        self.embed = nn.Linear(config.pose_input_channels, config.pose_embed_dim)
        channels = [config.pose_embed_dim, *config.pose_spatial_channels]
        self.spatial = nn.ModuleList(
            ReferenceSTGCNBlock(c_in, c_out, edges, num_nodes, 1)
            for c_in, c_out in zip(channels[:-1], channels[1:], strict=True)
        )
        hidden = config.pose_hidden_size
        self.temporal = nn.ModuleList(
            ReferenceSTGCNBlock(hidden, hidden, edges, num_nodes, config.pose_temporal_kernel_size)
            for _ in range(config.pose_num_temporal_blocks)
        )

    def encode_spatial(self, keypoints: torch.Tensor) -> torch.Tensor:
        """`(B, T, V, 3)` keypoints -> `(B, C, T, V)` node features."""
        hidden = self.embed(keypoints).permute(0, 3, 1, 2)  # as the reference: a view, no copy
        for block in self.spatial:
            hidden = block(hidden)
        return hidden

    def encode_temporal(self, hidden: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """`(B, C, T, V)` node features -> `(B, T, C)` frame features (mean over nodes)."""
        for block in self.temporal:
            hidden = block(hidden, frame_mask)
        return hidden.mean(dim=-1).transpose(1, 2)


class ReferencePoseEncoder(nn.Module):
    """The reference's pose encoder `(B, T, 69, 3) -> (B, T, 4 * C)`, with `UniSignPoseEncoder`'s interface."""

    def __init__(self, config: UniSignConfig):
        super().__init__()
        if config.batch_hands_together:
            raise ValueError("The reference runs each hand on its own: it has no `batch_hands_together`.")
        self.part_sizes = [len(config.pose_part_indices[part]) for part in PART_NAMES]
        self.mask_padded_frames = config.mask_padded_frames
        self.parts = nn.ModuleDict(
            {
                "body": ReferencePartEncoder(config, "body"),
                "hand": ReferencePartEncoder(config, "right_hand"),  # both hands: the reference's right-hand modules
                "face": ReferencePartEncoder(config, "face"),
            }
        )
        self.part_bias = nn.Parameter(torch.zeros(len(PART_NAMES) * config.pose_hidden_size))  # `part_para`

    def forward(self, pose_values: torch.Tensor, pose_attention_mask: torch.Tensor, hand_fusion=None) -> torch.Tensor:
        """Same arguments as `UniSignPoseEncoder.forward`; `hand_fusion(part, features)` takes `(B, C, T, V)`."""
        frame_mask = None
        if self.mask_padded_frames:
            frame_mask = pose_attention_mask.to(pose_values.dtype)[:, None, :, None]  # (B, 1, T, 1)
        parts = dict(zip(PART_NAMES, torch.split(pose_values, self.part_sizes, dim=2), strict=True))
        body = self.parts["body"].encode_spatial(parts["body"])  # (B, C, T, 9)
        features = {"body": self.parts["body"].encode_temporal(body, frame_mask)}
        for part in (*HAND_PARTS, "face"):
            encoder = self.parts["face" if part == "face" else "hand"]
            hidden = encoder.encode_spatial(parts[part])
            if hand_fusion is not None and part in HAND_PARTS:
                hidden = hand_fusion(part, hidden)
            anchor = body[..., BODY_ANCHOR_NODE[part], None].detach()  # (B, C, T, 1): no gradient into the body
            features[part] = encoder.encode_temporal(hidden + anchor, frame_mask)
        return torch.cat([features[part] for part in PART_NAMES], dim=-1) + self.part_bias  # (B, T, 4C)


def reference_pose_encoder(model: UniSignForConditionalGeneration) -> ReferencePoseEncoder:
    """A `ReferencePoseEncoder` with the weights, buffers, dtype, device and mode of `model.pose_encoder`."""
    # in the model's dtype and device before loading: a float64 state dict loaded into float32 would be rounded
    encoder = ReferencePoseEncoder(model.config).to(model.pose_encoder.part_bias)
    encoder.load_state_dict(model.pose_encoder.state_dict())
    return encoder.train(model.pose_encoder.training)


def with_reference_pose_encoder(model: UniSignForConditionalGeneration) -> UniSignForConditionalGeneration:
    """A copy of `model` whose pose encoder is the reference implementation (`reference_pose_encoder`)."""
    reference = copy.deepcopy(model)
    reference.pose_encoder = reference_pose_encoder(model)
    return reference
