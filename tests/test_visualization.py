"""Drawing poses: where the skeleton lands on the real video, the contact sheet, the MP4, and bad inputs."""

import av
import numpy as np
import pytest
from PIL import Image

from unisign import PoseSample
from unisign.apps.visualization import (
    CANVAS_COLOUR,
    draw_pose,
    hand_sampled_frames,
    pose_contact_sheet,
    render_pose_frames,
    write_pose_video,
)
from unisign.extraction import extract_poses, save_poses
from unisign.models.unisign.keypoints import PART_COLOURS
from unisign.models.unisign.video_io import read_video_frames


BODY_COLOUR = np.array(PART_COLOURS["body"])
RIGHT_HAND_COLOUR = np.array(PART_COLOURS["right_hand"])
LEFT_WRIST, RIGHT_WRIST = 9, 10


@pytest.fixture(scope="module")
def video_path(data_dir):
    return data_dir / "pose-format" / "test_video.mp4"


@pytest.fixture(scope="module")
def signer(video_path, mediapipe):
    return extract_poses(video_path, progress=False)


def synthetic_sample(num_frames=6, width=64, height=48, wrist_score=0.9):
    """A clip whose right wrist moves left to right along the middle row; every other point has score 0."""
    keypoints = np.zeros((num_frames, 133, 2), dtype=np.float32)
    scores = np.zeros((num_frames, 133), dtype=np.float32)
    keypoints[:, RIGHT_WRIST] = np.stack([np.linspace(0.2, 0.8, num_frames), np.full(num_frames, 0.5)], -1)
    scores[:, RIGHT_WRIST] = wrist_score
    return PoseSample(id="synthetic", keypoints=keypoints, scores=scores, width=width, height=height, fps=10.0)


def decoded_frame_count(path):
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_drawn_wrists_lie_on_the_signer_and_move(signer, video_path):
    frames = [0, 13, 17, 20, 30, 33, 41]
    images, drawn = render_pose_frames(signer, frames, video_path)
    assert images.shape == (len(frames), 720, 540, 3)
    wrists = drawn[:, RIGHT_WRIST]  # (N, 2) pixels, NaN where not drawn
    shown = ~np.isnan(wrists).any(-1)
    assert shown.sum() >= 5
    inside = (wrists[shown] >= 0).all() and (wrists[shown, 0] < 540).all() and (wrists[shown, 1] < 720).all()
    assert inside
    # the wrist marker really is in the picture where it was projected
    for image, (x, y) in zip(images[shown], np.round(wrists[shown]).astype(int), strict=True):
        np.testing.assert_array_equal(image[y, x], BODY_COLOUR)
    # it moves: the hand goes from the bottom edge up to the face
    spread = np.ptp(wrists[shown], axis=0)
    assert spread[1] > 200
    # and it lies where the person moved: around the raised wrist the video changed far more since frame 0 than in a
    # corner of the room (camera shake and exposure changes only)
    raw = read_video_frames(video_path, frames).astype(np.float32)
    for row in (frames.index(20), frames.index(30), frames.index(33)):
        x, y = np.round(wrists[row]).astype(int)
        around_wrist = np.abs(raw[row, y - 15 : y + 16, x - 15 : x + 16] - raw[0, y - 15 : y + 16, x - 15 : x + 16])
        corner = np.abs(raw[row, :60, :60] - raw[0, :60, :60])
        assert around_wrist.mean() > 50 and around_wrist.mean() > 2 * corner.mean()
    # the left wrist, below the frame in this video, is never drawn
    assert np.isnan(drawn[:, LEFT_WRIST]).all()


def test_hand_crop_frames_are_framed_in_the_hand_colour(signer, video_path):
    sampled = hand_sampled_frames(signer)
    assert len(sampled["left_hand"]) == 0 and len(sampled["right_hand"]) >= 1
    frames = [*sampled["right_hand"].tolist(), 0]  # frame 0: no hand, not sampled
    marked, _ = render_pose_frames(signer, frames, video_path)
    plain, _ = render_pose_frames(signer, frames, video_path, highlight={})
    ring = np.zeros((720, 540), dtype=bool)
    ring[:3], ring[-3:], ring[:, :3], ring[:, -3:] = True, True, True, True
    for row in range(len(frames) - 1):
        assert (marked[row][ring] == RIGHT_HAND_COLOUR).all()
        assert (plain[row][ring] == RIGHT_HAND_COLOUR).all(-1).mean() < 0.1  # only where the hand touches the edge
    np.testing.assert_array_equal(marked[-1], plain[-1])


def test_contact_sheet_adds_the_hand_crop_frames(signer, video_path, tmp_path):
    path = tmp_path / "sheet.png"
    pose_contact_sheet(signer, video_path, num_frames=8, columns=4).save(path)
    sheet = np.asarray(Image.open(path).convert("RGB"))
    plain = np.asarray(pose_contact_sheet(signer, video_path, num_frames=8, columns=4, highlight={}))
    # 8 evenly spaced frames (0, 8, 16, 24, 33, 41, 49, 57) plus the sampled 13 and 17: a third row of tiles
    assert sheet.shape[1] == plain.shape[1] and sheet.shape[0] > plain.shape[0]
    assert (sheet == RIGHT_HAND_COLOUR).all(-1).sum() > (plain == RIGHT_HAND_COLOUR).all(-1).sum() + 1000


def test_video_over_the_signer_has_every_frame(signer, video_path, tmp_path):
    path = tmp_path / "signer.mp4"
    assert write_pose_video(signer, path, video_path, progress=False) == 58
    assert decoded_frame_count(path) == 58
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (540, 720)


def test_cli_visualize(signer, video_path, tmp_path, capsys):
    from unisign.apps.cli import main

    poses = tmp_path / "signer.pkl"
    save_poses(signer, poses)
    main(["visualize", str(poses), "--out", str(tmp_path / "sheet.png"), "--video", str(video_path)])
    assert Image.open(tmp_path / "sheet.png").size[0] > 500
    main(["visualize", str(poses), "--out", str(tmp_path / "blank.mp4"), "--no-progress"])
    assert decoded_frame_count(tmp_path / "blank.mp4") == 58
    assert capsys.readouterr().out.count("Wrote") == 2
    with pytest.raises(SystemExit, match="must end in .mp4 or .png"):
        main(["visualize", str(poses), "--out", str(tmp_path / "sheet.gif")])


def test_draw_pose_puts_points_where_they_are_and_skips_unsure_ones():
    image = Image.new("RGB", (100, 80), CANVAS_COLOUR)
    keypoints = np.zeros((133, 2), dtype=np.float32)
    scores = np.zeros(133, dtype=np.float32)
    keypoints[RIGHT_WRIST], scores[RIGHT_WRIST] = (0.25, 0.5), 0.9
    keypoints[LEFT_WRIST], scores[LEFT_WRIST] = (0.75, 0.5), 0.3  # at the threshold: not drawn
    drawn = draw_pose(image, keypoints, scores)
    np.testing.assert_allclose(drawn[RIGHT_WRIST], (25, 40))
    assert np.isnan(drawn[LEFT_WRIST]).all() and np.isnan(drawn[0]).all()
    pixels = np.asarray(image)
    np.testing.assert_array_equal(pixels[40, 25], BODY_COLOUR)
    np.testing.assert_array_equal(pixels[40, 75], CANVAS_COLOUR)
    assert ((pixels != CANVAS_COLOUR).any(-1)).sum() < 60  # one small dot, nothing else


def test_blank_canvas_frames_follow_the_wrist():
    sample = synthetic_sample()
    images, drawn = render_pose_frames(sample, range(sample.num_frames), highlight={})
    assert images.shape == (6, 48, 64, 3)
    np.testing.assert_allclose(drawn[:, RIGHT_WRIST, 0], np.linspace(0.2, 0.8, 6) * 64, rtol=1e-5)
    for image, (x, y) in zip(images, np.round(drawn[:, RIGHT_WRIST]).astype(int), strict=True):
        np.testing.assert_array_equal(image[y, x], BODY_COLOUR)


def test_blank_canvas_video_with_odd_size(tmp_path):
    sample = synthetic_sample(num_frames=7, width=63, height=47)
    path = tmp_path / "odd.mp4"
    assert write_pose_video(sample, path, progress=False) == 7
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (64, 48)
        assert float(stream.average_rate) == pytest.approx(10.0)
    assert decoded_frame_count(path) == 7


def test_frame_size_is_required_without_a_video(tmp_path):
    sample = synthetic_sample(width=0, height=0)
    with pytest.raises(ValueError, match="no frame size.*canvas_size"):
        pose_contact_sheet(sample)
    sheet = pose_contact_sheet(sample, canvas_size=(64, 48), num_frames=3, columns=3, tile_width=64)
    assert sheet.size[0] == 3 * (64 + 6) + 6


def test_video_must_match_the_poses(tmp_path):
    video = tmp_path / "short.mp4"
    write_pose_video(synthetic_sample(num_frames=4), video, progress=False)  # a 64 x 48, 4-frame video
    with pytest.raises(ValueError, match="has 4 frames but the poses need 6"):
        write_pose_video(synthetic_sample(num_frames=6), tmp_path / "out.mp4", video, progress=False)
    with pytest.raises(ValueError, match="is 64 x 48 but the poses were extracted from a 32 x 32"):
        render_pose_frames(synthetic_sample(num_frames=4, width=32, height=32), [0], video)
    with pytest.raises(ValueError, match=r"Frame indices must be in \[0, 4\)"):
        render_pose_frames(synthetic_sample(num_frames=4), [4], video)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_pose_frames(synthetic_sample(num_frames=4), [0], tmp_path / "missing.mp4")


def test_empty_clip_is_refused(tmp_path):
    sample = synthetic_sample(num_frames=1)
    empty = PoseSample(id="empty", keypoints=np.zeros((0, 133, 2)), scores=np.zeros((0, 133)), width=8, height=8)
    with pytest.raises(ValueError, match="has no frames"):
        write_pose_video(empty, tmp_path / "empty.mp4", progress=False)
    with pytest.raises(ValueError, match="has no frames"):
        pose_contact_sheet(empty)
    with pytest.raises(ValueError, match="`num_frames` and `columns` must be >= 1"):
        pose_contact_sheet(sample, num_frames=0)


def test_a_long_clip_gets_a_bounded_contact_sheet_quickly(tmp_path, capsys):
    import time

    from unisign.apps import cli
    from unisign.models.unisign.keypoints import LEFT_HAND_INDICES, RIGHT_HAND_INDICES

    sample = synthetic_sample(num_frames=20_000)
    sample.scores[:, LEFT_HAND_INDICES] = sample.scores[:, RIGHT_HAND_INDICES] = 0.9  # the sampler picks 2 x 2,000
    save_poses(sample, tmp_path / "long.pkl")
    started = time.perf_counter()
    cli.main(["visualize", str(tmp_path / "long.pkl"), "--out", str(tmp_path / "sheet.png"), "--frames", "4"])
    assert time.perf_counter() - started < 60
    sheet = Image.open(tmp_path / "sheet.png")
    tile_height = round(48 * 240 / 64)
    assert sheet.height <= 40 + 2 * (tile_height + 18 + 6)  # 4 spaced + at most 4 marked frames: 2 rows of 4


def test_a_huge_canvas_is_refused_in_one_line(tmp_path):
    from unisign.apps import cli

    sample = synthetic_sample()
    save_poses(sample, tmp_path / "clip.pkl")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(
            [
                "visualize",
                str(tmp_path / "clip.pkl"),
                "--out",
                str(tmp_path / "x.png"),
                "--canvas-size",
                "100000x100000",
            ]
        )
    assert exit_info.value.code == 2
    sample.width = sample.height = 10**6  # a header that claims such a frame
    save_poses(sample, tmp_path / "huge.pkl")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["visualize", str(tmp_path / "huge.pkl"), "--out", str(tmp_path / "x.png")])
    assert "at most 8192 pixels a side" in str(exit_info.value.code) and not (tmp_path / "x.png").exists()
