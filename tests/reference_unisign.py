"""The reference implementation of the pose encoder: the oracle that the model's own implementation is checked against.

`UniSignPoseEncoder` (src/unisign/models/unisign/modeling_unisign.py) runs channels-last, with each graph convolution
as two matrix products. The functions here compute the same encoder the way the reference does (../shared/reference/
UNISIGN.md §2): channels-first `(B, C, T, V)` features, a 1x1 convolution split into K subsets, then
`y[n,c,t,w] = sum_k sum_v x_k[n,c,t,v] A_k[v,w]`, batch norms over `(B, C, T, V)`, and the parts in the reference's
order (body, left hand, right hand, face), each its own call. They sum in the reference's order, so they reproduce
the golden values more tightly than the model in float32 training (tests/test_golden_parity.py).

They read the parameters of the model's own modules (`ReferencePoseEncoder` is a `UniSignPoseEncoder` whose forward
is the reference's), so the two share a state dict but no arithmetic. Besides the reference they know
`mask_padded_frames` (a product before each temporal convolution), so that the parity tests cover that setting too.
Used by tests/test_fast_path.py, tests/test_golden_parity.py and `benchmarks/model_speed.py --oracle`.
"""

import copy

import torch
import torch.nn.functional as F

from unisign import UniSignConfig, UniSignForConditionalGeneration
from unisign.models.unisign.keypoints import BODY_ANCHOR_NODE, HAND_PARTS, PART_NAMES
from unisign.models.unisign.modeling_unisign import (
    UniSignGraphConv,
    UniSignPartEncoder,
    UniSignPoseEncoder,
    UniSignSTGCNBlock,
)


def graph_conv(unit: UniSignGraphConv, hidden: torch.Tensor) -> torch.Tensor:
    """The reference's GCN unit: `(B, C_in, T, V) -> (B, C_out, T, V)`."""
    batch, _, frames, nodes = hidden.shape
    hidden = unit.conv(hidden).view(batch, unit.num_subsets, -1, frames, nodes)  # (B, K, C, T, V)
    hidden = torch.einsum("bkctv,kvw->bctw", hidden, unit.adjacency)  # (B, C, T, V)
    return F.relu(unit.norm(hidden))


def st_gcn_block(block: UniSignSTGCNBlock, hidden: torch.Tensor, frame_mask: torch.Tensor | None) -> torch.Tensor:
    """The reference's ST-GCN block `(B, C_in, T, V) -> (B, C_out, T, V)`; `frame_mask` `(B, 1, T, 1)` (optional, not
    in the reference) zeroes padded frames before the temporal convolution."""
    residual = hidden if block.residual is None else block.residual(hidden)
    hidden = graph_conv(block.graph_conv, hidden)
    if block.temporal_conv is not None:
        if frame_mask is not None:
            hidden = hidden * frame_mask
        hidden = block.temporal_norm(block.temporal_conv(hidden))
    return F.relu(hidden + residual)


def encode_spatial(part: UniSignPartEncoder, keypoints: torch.Tensor) -> torch.Tensor:
    """`(B, T, V, 3)` keypoints -> `(B, C, T, V)` node features: `Linear(3 -> C)` per node, then the spatial chain."""
    hidden = part.embed(keypoints).permute(0, 3, 1, 2)  # as the reference: a view, no copy
    for block in part.spatial:
        hidden = st_gcn_block(block, hidden, None)
    return hidden


def encode_temporal(part: UniSignPartEncoder, hidden: torch.Tensor, frame_mask: torch.Tensor | None) -> torch.Tensor:
    """`(B, C, T, V)` node features -> `(B, T, C)` frame features: the temporal chain, then the mean over nodes."""
    for block in part.temporal:
        hidden = st_gcn_block(block, hidden, frame_mask)
    return hidden.mean(dim=-1).transpose(1, 2)


class ReferencePoseEncoder(UniSignPoseEncoder):
    """`UniSignPoseEncoder`'s modules and interface, with the reference's forward `(B, T, 69, 3) -> (B, T, 4 * C)`."""

    def __init__(self, config: UniSignConfig):
        if config.batch_hands_together:
            raise ValueError("The reference runs each hand on its own: it has no `batch_hands_together`.")
        super().__init__(config)

    def forward(self, pose_values: torch.Tensor, pose_attention_mask: torch.Tensor, hand_fusion=None) -> torch.Tensor:
        """Same arguments as `UniSignPoseEncoder.forward`; `hand_fusion(part, features)` takes `(B, C, T, V)`."""
        frame_mask = None
        if self.mask_padded_frames:
            frame_mask = pose_attention_mask.to(pose_values.dtype)[:, None, :, None]  # (B, 1, T, 1)
        parts = dict(zip(PART_NAMES, torch.split(pose_values, self.part_sizes, dim=2), strict=True))
        body = encode_spatial(self.parts["body"], parts["body"])  # (B, C, T, 9)
        features = {"body": encode_temporal(self.parts["body"], body, frame_mask)}
        for part in (*HAND_PARTS, "face"):
            encoder = self.parts["face" if part == "face" else "hand"]  # both hands: the right hand's modules
            hidden = encode_spatial(encoder, parts[part])
            if hand_fusion is not None and part in HAND_PARTS:
                hidden = hand_fusion(part, hidden)
            anchor = body[..., BODY_ANCHOR_NODE[part], None].detach()  # (B, C, T, 1): no gradient into the body
            features[part] = encode_temporal(encoder, hidden + anchor, frame_mask)
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
