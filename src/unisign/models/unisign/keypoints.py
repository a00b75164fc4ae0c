"""The keypoint layout Uni-Sign reads: which COCO-WholeBody-133 points form each part, and how they connect.

Pure data, no torch: the processor uses the index lists to cut parts out of 133-point poses, and the model uses
the edges to build its graphs. Facts from the reference code (`Uni-Sign`, ICLR 2025): part order is body, left
hand, right hand, face; "left" is the signer's left.
"""

NUM_WHOLEBODY_KEYPOINTS = 133
# First index of the 68 face points and of each hand's 21 points (wrist first) in COCO-WholeBody-133.
FACE_START, LEFT_HAND_START, RIGHT_HAND_START = 23, 91, 112
NUM_HAND_KEYPOINTS = 21

# Index lists into COCO-WholeBody-133, in the order the reference feeds them to the model.
BODY_INDICES = [0, 3, 4, 5, 6, 7, 8, 9, 10]  # nose, ears, shoulders, elbows, wrists
LEFT_HAND_INDICES = list(range(LEFT_HAND_START, LEFT_HAND_START + NUM_HAND_KEYPOINTS))
RIGHT_HAND_INDICES = list(range(RIGHT_HAND_START, RIGHT_HAND_START + NUM_HAND_KEYPOINTS))
# every second jaw point (9), inner lips (8), nose tip last (the face's centre node)
FACE_INDICES = list(range(FACE_START, 40, 2)) + list(range(83, 91)) + [53]

PART_NAMES = ("body", "left_hand", "right_hand", "face")
PART_INDICES = {
    "body": BODY_INDICES,
    "left_hand": LEFT_HAND_INDICES,
    "right_hand": RIGHT_HAND_INDICES,
    "face": FACE_INDICES,
}

# Graph edges in each part's own node numbering (self-loops are added by the graph builder).
# each finger is a chain of four nodes hanging from the wrist: thumb 1-4, index 5-8, ..., little 17-20
HAND_EDGES = [(0 if j == 0 else first + j - 1, first + j) for first in (1, 5, 9, 13, 17) for j in range(4)]
BODY_EDGES = [(0, 1), (0, 2), (0, 3), (0, 4), (3, 5), (5, 7), (4, 6), (6, 8)]
FACE_EDGES = (
    [(i, i + 1) for i in range(8)]  # jaw chain over nodes 0..8
    + [(i, i + 1) for i in range(9, 16)]
    + [(16, 9)]  # inner-lip loop over nodes 9..16
    + [(17, i) for i in range(17)]  # nose tip joined to every other node
)
PART_EDGES = {"body": BODY_EDGES, "left_hand": HAND_EDGES, "right_hand": HAND_EDGES, "face": FACE_EDGES}

# The two hands, everywhere a hand is named by a number: `hand_sides` value 0 is the (signer's) left hand, 1 the
# right hand; hand crops, fusion and pictures all follow this order.
HAND_PARTS = ("left_hand", "right_hand")

# Where each part is re-centred by the processor, and which body node the model adds to it.
HAND_ROOT_NODE = 0  # wrist, node 0 of a hand
FACE_CENTER_NODE = len(FACE_INDICES) - 1  # nose tip
BODY_ANCHOR_NODE = {"left_hand": 7, "right_hand": 8, "face": 0}  # left wrist, right wrist, nose (in BODY_INDICES)
FINGERTIP_NODES = [4, 8, 12, 16, 20]

# One RGB colour per part, shared by the pose drawings (`unisign.apps.visualization`, `unisign.synthetic.render`).
PART_COLOURS = {"body": (255, 60, 60), "face": (60, 200, 255), "left_hand": (60, 255, 60), "right_hand": (255, 200, 0)}

__all__ = [
    "BODY_ANCHOR_NODE",
    "BODY_EDGES",
    "BODY_INDICES",
    "FACE_CENTER_NODE",
    "FACE_EDGES",
    "FACE_INDICES",
    "FACE_START",
    "FINGERTIP_NODES",
    "HAND_EDGES",
    "HAND_PARTS",
    "HAND_ROOT_NODE",
    "LEFT_HAND_INDICES",
    "LEFT_HAND_START",
    "NUM_HAND_KEYPOINTS",
    "NUM_WHOLEBODY_KEYPOINTS",
    "PART_COLOURS",
    "PART_EDGES",
    "PART_INDICES",
    "PART_NAMES",
    "RIGHT_HAND_INDICES",
    "RIGHT_HAND_START",
]
