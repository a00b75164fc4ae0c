"""Few-shot sign enrollment (`unisign.apps.few_shot`, `unisign enroll`, `unisign recognize`) and the synthetic
language's few-shot split (`unisign.synthetic.few_shot`)."""

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from unisign import UniSignConfig, UniSignForConditionalGeneration, UniSignProcessor
from unisign.apps import cli
from unisign.apps.few_shot import (
    EMBEDDINGS,
    INDEX_NAME,
    METHODS,
    MIN_CLIP_FRAMES,
    WEIGHTS_NAME,
    SignEmbedder,
    SignVocabulary,
    enroll,
    examples_from_folder,
    recognize,
    top_k_accuracy,
)
from unisign.extraction import save_poses
from unisign.synthetic import generate_clip, sample_signer
from unisign.synthetic.few_shot import (
    MIN_DIFFERENCES,
    few_shot_clips,
    few_shot_signers,
    new_signs,
    sign_parameters,
)
from unisign.synthetic.lexicon import SIGNS, VOCABULARY

from .training_helpers import TINY_LM, TINY_POSE, make_tokenizer


NUM_SIGNS, NUM_SIGNERS, SHOTS = 8, 6, 3  # the first SHOTS signers enroll, the others query


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models on a shared CPU: one thread is the fastest."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny Uni-Sign trained for a few seconds on isolated signs of the training lexicon, saved as a folder."""
    root = tmp_path_factory.mktemp("few_shot_model")
    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(root / "tokenizer"))
    text_config = {"vocab_size": len(tokenizer), **TINY_LM, "d_model": 32, "d_ff": 64, "dropout_rate": 0.0}
    config = UniSignConfig(text_config=text_config, label_smoothing=0.0, **TINY_POSE)
    prompts = {"en": "Translate sign language video to English:", "en/ISLR": "sign"}
    processor = UniSignProcessor.from_model_config(config, tokenizer, prompts=prompts, language="en")
    torch.manual_seed(0)
    model = UniSignForConditionalGeneration(config)
    clips = [
        generate_clip(s.gloss, sample_signer(j), seed=100 * j + i) for i, s in enumerate(SIGNS[:16]) for j in range(6)
    ]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    order = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(60):
        batch = [clips[i] for i in torch.randperm(len(clips), generator=order)[:16]]
        inputs = processor(poses=batch, text=[clip.text for clip in batch], task="ISLR", return_tensors="pt")
        loss = model(**inputs).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    folder = root / "model"
    model.eval().save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def split(tmp_path_factory) -> tuple[Path, list]:
    """New signs: the enrolling signers' clips as `<sign>/<signer>.pose`, and the other signers' clips (queries)."""
    folder = tmp_path_factory.mktemp("few_shot_examples")
    clips = few_shot_clips(new_signs(NUM_SIGNS, seed=0), few_shot_signers(NUM_SIGNERS, seed=0))
    enrolling = {signer.signer_id for signer in few_shot_signers(NUM_SIGNERS, seed=0)[:SHOTS]}
    queries = []
    for clip in clips:
        if clip.extra["signer_id"] in enrolling:
            (folder / clip.gloss[0]).mkdir(exist_ok=True)
            save_poses(clip, folder / clip.gloss[0] / f"{clip.extra['signer_id']}.pose")
        else:
            queries.append(clip)
    return folder, queries


def run_cli(argv: list[str]) -> None:
    cli.main([str(arg) for arg in argv])


def cli_error(argv: list[str]) -> str:
    """The one-line message `unisign ...` stops with."""
    with pytest.raises(SystemExit) as stopped:
        run_cli(argv)
    message = str(stopped.value.code if stopped.value.code not in (1, 2) else stopped.value)
    assert message.startswith(f"unisign {argv[0]}: error: ") and "\n" not in message, message
    return message


def test_enrolled_new_signs_are_recognised_from_other_signers_far_above_chance(tiny_model, split, tmp_path, capsys):
    folder, queries = split
    # the encoder's states: a decoder trained for 60 steps on 16 words says little yet (the default, `decoder`, is
    # the best with the main job's model; docs/few_shot.md)
    embedder = SignEmbedder.from_pretrained(tiny_model, "encoder")
    vocabulary = enroll(embedder, examples_from_folder(folder))
    assert len(vocabulary) == NUM_SIGNS and all(len(v) == SHOTS for v in vocabulary.signs.values())
    embeddings = embedder.embed(queries)
    labels = torch.tensor([vocabulary.names.index(clip.gloss[0]) for clip in queries])
    for method in METHODS:
        accuracy = top_k_accuracy(vocabulary.scores(embeddings, method), labels, 1)
        assert accuracy >= 300 / NUM_SIGNS, (method, accuracy)  # chance: 100 / NUM_SIGNS percent
    # the command line: enroll, then recognise one query file, top-k lines of "sign<TAB>score", best first
    run_cli(
        [
            "enroll",
            "--model",
            tiny_model,
            "--examples",
            folder,
            "--out",
            tmp_path / "vocabulary",
            "--embedding",
            "encoder",
        ]
    )
    assert "8 signs (8 new, 24 examples)" in capsys.readouterr().out
    save_poses(queries[0], tmp_path / "query.pose")
    run_cli(
        [
            "recognize",
            tmp_path / "query.pose",
            "--model",
            tiny_model,
            "--vocabulary",
            tmp_path / "vocabulary",
            "--top-k",
            3,
        ]
    )
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    expected = recognize(embedder, vocabulary, queries[0], top_k=3)
    assert [name for name, _ in lines] == [name for name, _ in expected]
    assert [float(score) for _, score in lines] == pytest.approx([score for _, score in expected], abs=1e-3)


@pytest.mark.parametrize("embedding", EMBEDDINGS)
def test_each_embedding_gives_unit_vectors_that_do_not_depend_on_the_batch(tiny_model, split, embedding):
    embedder = SignEmbedder.from_pretrained(tiny_model, embedding)
    clips = split[1][:3]  # clips of different lengths: padding must not change a clip's vector
    together = embedder.embed(clips)
    alone = torch.cat([embedder.embed([clip]) for clip in clips])
    assert together.shape == (3, embedder.dim)
    torch.testing.assert_close(together.norm(dim=1), torch.ones(3))
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-4)


def test_the_vocabulary_round_trips_and_loads_from_a_model_folder(tiny_model, split, tmp_path, capsys):
    folder, queries = split
    embedder = SignEmbedder.from_pretrained(tiny_model)
    vocabulary = enroll(embedder, examples_from_folder(folder))
    vocabulary.save(tmp_path / "vocabulary")
    loaded = SignVocabulary.load(tmp_path / "vocabulary")
    assert loaded.names == vocabulary.names and loaded.fingerprint == embedder.fingerprint
    for name in vocabulary.names:
        torch.testing.assert_close(loaded.signs[name], vocabulary.signs[name], atol=0, rtol=0)
    assert SignVocabulary.load(tmp_path / "vocabulary" / INDEX_NAME).names == vocabulary.names  # a file of it
    # Hub style: the two files beside the model's own, or in its vocabulary/ folder; `recognize` finds them itself
    save_poses(queries[0], tmp_path / "query.pose")
    outputs = []
    for inside in ("", "vocabulary"):
        shared = tmp_path / f"shared{inside}"
        shutil.copytree(tiny_model, shared)
        vocabulary.save(shared / inside)
        assert SignVocabulary.load(shared).names == vocabulary.names
        run_cli(["recognize", tmp_path / "query.pose", "--model", shared, "--top-k", 2])
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and len(outputs[0].splitlines()) == 2
    # `--add` extends a vocabulary with new signs, keeping the old ones as they were
    more = tmp_path / "more"
    for clip in few_shot_clips(new_signs(NUM_SIGNS + 2, seed=0)[NUM_SIGNS:], few_shot_signers(2, seed=0)):
        (more / clip.gloss[0]).mkdir(parents=True, exist_ok=True)
        save_poses(clip, more / clip.gloss[0] / f"{clip.extra['signer_id']}.pose")
    run_cli(["enroll", "--model", tiny_model, "--examples", more, "--out", tmp_path / "vocabulary", "--add"])
    extended = SignVocabulary.load(tmp_path / "vocabulary")
    assert extended.names[:NUM_SIGNS] == vocabulary.names and len(extended) == NUM_SIGNS + 2
    torch.testing.assert_close(extended.signs[vocabulary.names[0]], vocabulary.signs[vocabulary.names[0]])


def test_a_dataset_split_enrolls_its_isolated_signs_under_their_gloss(tiny_model, split, tmp_path, capsys):
    from unisign.data import samples_to_dataset_dict, save_pose_dataset

    queries = split[1]
    sentence = generate_clip(["I", "GO"], sample_signer(0))  # two glosses: not one sign, left out
    save_pose_dataset(samples_to_dataset_dict({"train": [*queries, sentence], "dev": queries[:2]}), tmp_path / "data")
    command = ["enroll", "--model", tiny_model, "--examples", tmp_path / "data", "--out", tmp_path / "vocabulary"]
    assert "name the split to enroll with `--split`" in cli_error(command)
    run_cli([*command, "--split", "train"])
    assert f"{NUM_SIGNS} signs ({NUM_SIGNS} new, {len(queries)} examples)" in capsys.readouterr().out
    vocabulary = SignVocabulary.load(tmp_path / "vocabulary")
    assert sorted(vocabulary.names) == sorted({clip.gloss[0] for clip in queries})
    assert "Could not read split 'test'" in cli_error([*command[:-2], "--out", tmp_path / "v2", "--split", "test"])


@pytest.fixture(scope="module")
def other_model(tiny_model, tmp_path_factory) -> Path:
    """The tiny model with one weight nudged (what a fine-tune does), saved as another folder."""
    folder = tmp_path_factory.mktemp("other_model")
    model = UniSignForConditionalGeneration.from_pretrained(tiny_model)
    with torch.no_grad():
        model.pose_projection.bias.add_(1e-3)
    model.save_pretrained(folder)
    UniSignProcessor.from_pretrained(tiny_model).save_pretrained(folder)
    return folder


def test_bad_inputs_stop_with_one_line_naming_the_problem(tiny_model, other_model, split, tmp_path):
    folder, queries = split
    vocabulary = tmp_path / "vocabulary"
    run_cli(["enroll", "--model", tiny_model, "--examples", folder, "--out", vocabulary])
    save_poses(queries[0], tmp_path / "query.pose")
    # a sign with no examples
    empty = tmp_path / "empty"
    shutil.copytree(folder, empty)
    (empty / "NOCLIPS").mkdir()
    message = cli_error(["enroll", "--model", tiny_model, "--examples", empty, "--out", tmp_path / "v1"])
    assert "Sign 'NOCLIPS' has no examples" in message
    # two signs with the same name: in one folder (case aside), or one already in the vocabulary extended
    twice = tmp_path / "twice"
    shutil.copytree(folder, twice)
    first = sorted(twice.iterdir())[0]
    shutil.copytree(first, twice / first.name.lower())
    message = cli_error(["enroll", "--model", tiny_model, "--examples", twice, "--out", tmp_path / "v2"])
    assert "Two signs are named" in message
    message = cli_error(["enroll", "--model", tiny_model, "--examples", folder, "--out", vocabulary, "--add"])
    assert f"Two signs are named '{first.name}'" in message
    # one clip given as an example of two signs (a copy under another file name)
    shared = tmp_path / "shared"
    shutil.copytree(folder, shared)
    signs = sorted(path for path in shared.iterdir())
    clip = sorted(signs[0].iterdir())[0]
    shutil.copy(clip, signs[1] / f"copy-{clip.name}")
    message = cli_error(["enroll", "--model", tiny_model, "--examples", shared, "--out", tmp_path / "v3"])
    assert f"is an example of both '{signs[0].name}' and '{signs[1].name}'" in message
    # a vocabulary made with another model
    message = cli_error(["recognize", tmp_path / "query.pose", "--model", other_model, "--vocabulary", vocabulary])
    assert "was made with another model" in message
    message = cli_error(["enroll", "--model", other_model, "--examples", folder, "--out", vocabulary, "--add"])
    assert "was made with another model" in message
    # a clip too short to show a sign
    short = generate_clip("GO", sample_signer(0))
    short.keypoints, short.scores = short.keypoints[: MIN_CLIP_FRAMES - 1], short.scores[: MIN_CLIP_FRAMES - 1]
    save_poses(short, tmp_path / "short.pose")
    message = cli_error(["recognize", tmp_path / "short.pose", "--model", tiny_model, "--vocabulary", vocabulary])
    assert f"has {MIN_CLIP_FRAMES - 1} frame(s): a sign needs at least {MIN_CLIP_FRAMES}" in message
    # an empty, damaged or missing vocabulary
    query = ["recognize", tmp_path / "query.pose", "--model", tiny_model, "--vocabulary"]
    broken = tmp_path / "broken"
    shutil.copytree(vocabulary, broken)
    (broken / INDEX_NAME).write_text("")
    assert "is not a vocabulary index (JSON)" in cli_error([*query, broken])
    index = json.loads((vocabulary / INDEX_NAME).read_text())
    (broken / INDEX_NAME).write_text(json.dumps({**index, "signs": [], "examples_per_sign": []}))
    assert "holds no signs" in cli_error([*query, broken])
    (broken / INDEX_NAME).write_text(json.dumps(index))
    (broken / WEIGHTS_NAME).write_bytes((vocabulary / WEIGHTS_NAME).read_bytes()[:100])
    assert "is not a readable safetensors file" in cli_error([*query, broken])
    (broken / WEIGHTS_NAME).unlink()
    assert f"has no {WEIGHTS_NAME}" in cli_error([*query, broken])
    assert "holds no vocabulary" in cli_error([*query, tmp_path / "empty"])
    # writing over a vocabulary needs --add
    assert "already holds a vocabulary" in cli_error(
        ["enroll", "--model", tiny_model, "--examples", folder, "--out", vocabulary]
    )


def test_the_command_line_offers_the_modules_embeddings_and_methods():
    assert cli.FEW_SHOT_EMBEDDINGS == EMBEDDINGS and cli.FEW_SHOT_METHODS == METHODS


# -- the synthetic few-shot split --------------------------------------------------------------------------------


def test_new_signs_are_outside_the_lexicon_distinct_and_deterministic():
    signs = new_signs(100, seed=0)
    assert new_signs(100, seed=0) == signs and new_signs(100, seed=1) != signs
    assert new_signs(20, seed=0) == signs[:20]  # a smaller draw is the start of a larger one
    assert len({sign.gloss for sign in signs}) == 100 and not {sign.gloss for sign in signs} & set(VOCABULARY)
    lexicon = {(sign.dominant, sign.movement, sign.hands) for sign in SIGNS}
    assert not lexicon & {(sign.dominant, sign.movement, sign.hands) for sign in signs}
    known = [sign_parameters(sign) for sign in SIGNS]
    for sign in signs:
        for other in known:
            assert sum(a != b for a, b in zip(sign_parameters(sign), other, strict=True)) >= MIN_DIFFERENCES
        known.append(sign_parameters(sign))


def test_few_shot_clips_come_from_unseen_signers_and_are_deterministic():
    signers = few_shot_signers(3, seed=0)
    dataset_signers = {sample_signer(index).signer_id for index in range(200)}  # train, validation, test ids
    assert not {signer.signer_id for signer in signers} & dataset_signers
    signs = new_signs(2, seed=0)
    clips, again = few_shot_clips(signs, signers, seed=0), few_shot_clips(signs, signers, seed=0)
    assert [clip.gloss for clip in clips] == [[signs[0].gloss]] * 3 + [[signs[1].gloss]] * 3
    assert all(np.array_equal(a.keypoints, b.keypoints) for a, b in zip(clips, again, strict=True))
    other = few_shot_clips(signs, signers, seed=1)
    assert not np.array_equal(clips[0].keypoints, other[0].keypoints)


def test_a_lexicon_sign_given_as_a_sign_generates_the_clip_of_its_gloss():
    by_gloss = generate_clip(["I", "GO"], sample_signer(1), seed=4)
    by_sign = generate_clip([VOCABULARY["I"], VOCABULARY["GO"]], sample_signer(1), seed=4)
    assert by_sign.id == by_gloss.id and by_sign.gloss == by_gloss.gloss == ["I", "GO"]
    np.testing.assert_array_equal(by_sign.keypoints, by_gloss.keypoints)


# The demo's few-shot tab


@pytest.fixture(scope="module")
def demo_few_shot(tiny_model, tmp_path_factory):
    pytest.importorskip("gradio")
    from unisign.apps.demo import DemoFewShot, DemoTranslator

    return DemoFewShot(DemoTranslator(str(tiny_model), device="cpu", workdir=tmp_path_factory.mktemp("demo")))


def test_the_demo_enrolls_uploaded_examples_per_session_and_recognises_a_clip(
    demo_few_shot, tiny_model, split, tmp_path
):
    from unisign.apps.demo import build_demo, enrolled_signs_line

    folder, queries = split
    names = sorted(path.name for path in folder.iterdir())[:4]
    files = {name: sorted((folder / name).iterdir()) for name in names}
    session = None
    for name in names:
        before = session
        session = demo_few_shot.add_sign(session, name, files[name])
        assert before is None or len(before) == names.index(name)  # a session's earlier vocabulary is not changed
    assert enrolled_signs_line(session).startswith("4 of at most 20 signs") and f"**{names[0]}** ({SHOTS})" in (
        enrolled_signs_line(session)
    )
    query = tmp_path / "query.pose"
    save_poses(next(clip for clip in queries if clip.gloss[0] == names[0]), query)
    scores = demo_few_shot.recognize(session, query)
    # what the Python API gives with the model loaded on its own
    embedder = SignEmbedder.from_pretrained(tiny_model)
    expected = recognize(embedder, enroll(embedder, files), query, top_k=5)
    assert list(scores) == [name for name, _ in expected] and len(scores) == 4
    assert list(scores.values()) == pytest.approx([score for _, score in expected], abs=1e-4)

    # the page: the tab's buttons call these, and a bad input is a one-line error on the page
    import gradio as gr

    page = build_demo(demo_few_shot.translator)
    add = next(function.fn for function in page.fns.values() if function.fn.__name__ == "add")
    state, line, cleared_files, cleared_name = add(None, names[0], files[names[0]])
    assert len(state) == 1 and line.startswith("1 of") and (cleared_files, cleared_name) == (None, "")
    with pytest.raises(gr.Error) as refused:
        add(state, " ", files[names[0]])
    assert refused.value.message == "Give the sign a name first."


def test_the_demo_few_shot_tab_refuses_bad_input_in_one_line(demo_few_shot, split, tmp_path, monkeypatch):
    from unisign.apps import demo

    folder, queries = split
    name = sorted(path.name for path in folder.iterdir())[0]
    examples = sorted((folder / name).iterdir())
    session = demo_few_shot.add_sign(None, name, examples)
    short = dataclasses.replace(queries[0], keypoints=queries[0].keypoints[:5], scores=queries[0].scores[:5])
    save_poses(short, tmp_path / "short.pose")
    (tmp_path / "notes.txt").write_text("not a clip")
    monkeypatch.setattr(demo, "MAX_FEW_SHOT_EXAMPLES", 2)
    cases = [
        (lambda: demo_few_shot.add_sign(None, "", examples), "Give the sign a name"),
        (lambda: demo_few_shot.add_sign(None, "HELLO", []), "Upload at least one example of 'HELLO'"),
        (lambda: demo_few_shot.add_sign(None, "HELLO", examples), "3 examples of 'HELLO': at most 2 per sign"),
        (lambda: demo_few_shot.add_sign(session, f" {name.lower()} ", examples[:1]), "Two signs are named"),
        (lambda: demo_few_shot.add_sign(None, "HELLO", [tmp_path / "short.pose"]), "The clip is too short: 5"),
        (lambda: demo_few_shot.add_sign(None, "HELLO", [tmp_path / "notes.txt"]), "Unsupported file `notes.txt`"),
        (lambda: demo_few_shot.recognize(None, examples[0]), "Add at least one sign first"),
        (lambda: demo_few_shot.recognize(session, None), "Upload a clip to recognise"),
    ]
    for call, message in cases:
        with pytest.raises(demo.DemoInputError) as refused:
            call()
        assert str(refused.value).startswith(message) and "\n" not in str(refused.value), str(refused.value)
    monkeypatch.setattr(demo, "MAX_FEW_SHOT_SIGNS", 1)
    with pytest.raises(demo.DemoInputError, match="at most 1 signs"):
        demo_few_shot.add_sign(session, "HELLO", examples[:1])
    monkeypatch.setattr(demo, "MAX_FEW_SHOT_FRAMES", 10)
    with pytest.raises(demo.DemoInputError, match="frames; an example or clip may have at most 10"):
        demo_few_shot.recognize(session, examples[0])


# Spotting enrolled signs in a stream


def test_two_enrolled_signs_in_a_stream_are_spotted_in_order(tiny_model, split, tmp_path, capsys):
    from unisign.apps.streaming import SignSpotter

    folder, queries = split
    names = sorted(path.name for path in folder.iterdir())[:2]
    embedder = SignEmbedder.from_pretrained(tiny_model, "encoder")  # as in the accuracy test above
    vocabulary = enroll(embedder, {name: sorted((folder / name).iterdir()) for name in names})
    signer = queries[0].extra["signer_id"]  # one signer the vocabulary never saw performs both signs in a row
    clips = [next(c for c in queries if c.gloss[0] == name and c.extra["signer_id"] == signer) for name in names]
    stream = dataclasses.replace(
        clips[0],
        keypoints=np.concatenate([clip.keypoints for clip in clips]),
        scores=np.concatenate([clip.scores for clip in clips]),
    )
    spotter = SignSpotter(embedder, vocabulary)
    found = spotter.spot(stream)
    assert [spotted.sign for spotted in found] == names, found
    boundary = clips[0].num_frames
    assert found[0].start_frame < boundary < found[1].end_frame  # the first one in the first clip, the second after
    assert all(spotted.score >= spotter.threshold and spotted.margin >= 0 for spotted in found)

    # the command line, on the stream's poses
    vocabulary.save(tmp_path / "vocabulary")
    save_poses(stream, tmp_path / "stream.pose")
    model = ["--model", tiny_model, "--vocabulary", tmp_path / "vocabulary"]
    run_cli(["recognize", "--stream", tmp_path / "stream.pose", *model])
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert lines == [[f"{s.start_frame}-{s.end_frame}", s.sign, f"{s.score:.4f}"] for s in found]
    assert "Give either CLIP or `--stream" in cli_error(
        ["recognize", "--stream", tmp_path / "stream.pose", "x", *model]
    )
    assert "`window_frames` must be a whole number of at least 4" in cli_error(
        ["recognize", "--stream", tmp_path / "stream.pose", "--window", 2, *model]
    )


def test_the_spotting_threshold_is_a_quantile_of_leave_one_out_similarities():
    from unisign.apps import streaming
    from unisign.utils.errors import InvalidInputError

    vectors = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.8, 0.6]]), dim=-1)
    vocabulary = SignVocabulary("f", "encoder", signs={"A": vectors[:2], "B": vectors[2:], "C": vectors[:1]})
    # each example against its sign's other example (C has one: no comparison): A 0.6 twice, B 0.6 twice
    assert streaming.spotting_threshold(vocabulary, 0.0) == pytest.approx(0.6)
    alone = SignVocabulary("f", "encoder", signs={"A": vectors[:1], "B": vectors[2:3]})
    with pytest.raises(InvalidInputError, match="needs a sign with at least two examples"):
        streaming.spotting_threshold(alone)
    assert (cli.SPOT_WINDOW_FRAMES, cli.SPOT_STEP_FRAMES, cli.SPOT_MARGIN) == (
        streaming.SPOT_WINDOW_FRAMES,
        streaming.SPOT_STEP_FRAMES,
        streaming.SPOT_MARGIN,
    )
