"""Few-shot sign enrollment on the synthetic language's few-shot split: N-way K-shot accuracy, speed, old signs.

    python benchmarks/few_shot.py --model outputs/default_synthetic/best --draw validation  # choose settings
    python benchmarks/few_shot.py --model outputs/default_synthetic/best --draw test \
        --embeddings encoder --methods prototype --data outputs/synthetic-data                # score once

A draw is its own set of new signs (`unisign.synthetic.few_shot.new_signs`) performed by its own signers
(`few_shot_signers`): `validation` is seed 1, `test` seed 2. Each clip is embedded once per embedding. For every
N (ways) and K (shots), each episode picks N of the draw's signs and splits the signers in two: K enrollment
examples per sign come from K signers of the first half, the queries are every clip of the second half, so no query
comes from a signer whose examples were enrolled. Accuracy is averaged over episodes, with a 95% t-interval.

With `--data` (the main job's synthetic dataset folder) it also scores the model's own training signs on that
dataset's test split, alone and with 20 enrolled new signs (5 shots) merged in (see `old_signs`).

`--spotting` instead scores spotting enrolled signs in synthetic streams (`spotting`), and `--lora-shots 5 10 20`
compares enrollment with a LoRA fine-tune on the same examples (`lora_comparison`).

Prints a JSON object and writes it to `--out` when given.
"""

import argparse
import json
import platform
import random
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from unisign.apps.few_shot import EMBEDDINGS, METHODS, SignEmbedder, SignVocabulary, top_k_accuracy
from unisign.synthetic.few_shot import few_shot_clips, few_shot_signers, new_signs


DRAW_SEEDS = {"validation": 1, "test": 2}
LORA_QUERY_SIGNERS = 5
T_975 = {4: 2.776, 9: 2.262, 19: 2.093, 29: 2.045}  # two-sided 95% t quantiles by degrees of freedom


def interval(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% t-interval (the normal 1.96 beyond the table)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, float("nan")
    quantile = T_975.get(len(values) - 1, 1.96)
    return mean, quantile * statistics.stdev(values) / len(values) ** 0.5


def episodes(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    signers: torch.Tensor,
    ways: int,
    shots: int,
    draws: int,
    methods: tuple[str, ...],
    seed: int,
) -> dict:
    """Top-1 and top-5 accuracy per method over `draws` N-way K-shot episodes (see the module docstring)."""
    rng = random.Random(seed)
    num_signs, signer_ids = int(labels.max()) + 1, sorted(set(signers.tolist()))
    results = {method: {"top1": [], "top5": []} for method in methods}
    for _ in range(draws):
        chosen = rng.sample(range(num_signs), ways)
        order = signer_ids[:]
        rng.shuffle(order)
        enrolling, querying = order[: len(order) // 2], set(order[len(order) // 2 :])
        if shots > len(enrolling):
            raise ValueError(f"{shots} shots need {shots} enrollment signers, the draw has {len(enrolling)}.")
        shot_signers = rng.sample(enrolling, shots)
        vocabulary = SignVocabulary("episode", "episode")
        queries, query_labels = [], []
        for position, sign in enumerate(chosen):
            of_sign = labels == sign
            examples = [embeddings[(of_sign & (signers == s)).nonzero()[0, 0]] for s in shot_signers]
            vocabulary.add(str(sign), torch.stack(examples))
            mask = of_sign & torch.tensor([s in querying for s in signers.tolist()])
            queries.append(embeddings[mask])
            query_labels += [position] * int(mask.sum())
        queries, query_labels = torch.cat(queries), torch.tensor(query_labels)
        for method in methods:
            scores = vocabulary.scores(queries, method)
            results[method]["top1"].append(top_k_accuracy(scores, query_labels, 1))
            results[method]["top5"].append(top_k_accuracy(scores, query_labels, 5))
    return {
        method: {name: [round(x, 2) for x in interval(values)] for name, values in scores.items()}
        for method, scores in results.items()
    }


def timing(embedder: SignEmbedder, clips: list, vocabulary: SignVocabulary) -> dict:
    """Milliseconds per example when enrolling 5 at a time, and per clip when recognising one at a time."""
    embedder.embed(clips[:5])  # warm-up
    start = time.perf_counter()
    for i in range(0, 50, 5):
        embedder.embed(clips[i : i + 5])
    enroll_ms = (time.perf_counter() - start) / 50 * 1000
    start = time.perf_counter()
    for clip in clips[:50]:
        vocabulary.scores(embedder.embed([clip])).topk(5)
    return {
        "enroll_ms_per_example": round(enroll_ms, 1),
        "recognize_ms_per_clip": round((time.perf_counter() - start) / 50 * 1000, 1),
    }


MARGINS = (0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)  # cosine: how much nearer a new sign must be


def isolated_clips(dataset, split: str, limit_per_sign: int | None = None) -> list:
    """The isolated-sign clips of a split of the main job's dataset (at most `limit_per_sign` per sign)."""
    from unisign.data import sample_from_row

    clips, counts = [], {}
    for row in dataset[split].with_format("numpy"):
        sample = sample_from_row(row)
        if sample.extra.get("template") != "isolated":
            continue
        counts[sample.text] = counts.get(sample.text, 0) + 1
        if limit_per_sign is None or counts[sample.text] <= limit_per_sign:
            clips.append(sample)
    return clips


def generated_words(embedder: SignEmbedder, clips: list) -> list[str]:
    """The model's own ISLR answers (greedy decoding under the ISLR prompt)."""
    predictions = []
    for i in range(0, len(clips), 32):
        batch = embedder.processor(poses=clips[i : i + 32], task=embedder.task, return_tensors="pt")
        with torch.no_grad():
            output = embedder.model.generate(**batch, num_beams=1, max_new_tokens=8)
        predictions += embedder.processor.batch_decode(output, skip_special_tokens=True)
    return predictions


def merged_answers(old_scores, new_scores, old_answers: list[str], new_names: list[str], margin: float) -> list[str]:
    """A new sign where a clip is nearer its prototype, by more than `margin`, than every old sign's; else the old
    recogniser's answer."""
    best_new = new_scores.max(1)
    routed = best_new.values - margin > old_scores.max(1).values
    return [new_names[int(best_new.indices[i])] if routed[i] else old_answers[i] for i in range(len(old_answers))]


def old_signs(
    embedder: SignEmbedder, data: str, new_embeddings, new_labels, new_signers, old_shots: int, seed: int
) -> dict:
    """The model's own signs, with 20 enrolled new signs merged in (margin chosen on `data`'s validation split).

    Two recognisers of the old signs: the model's ISLR (`generated`), and nearest prototype of the old signs
    (`prototype`, from up to `old_shots` training clips each). Merged, each answers a new sign only when the clip is
    nearer a new sign's prototype than any old sign's by more than the margin: the smallest of `MARGINS` that costs
    the old signs at most half a point on the validation split. Scored on the test split (old signs) and on the new
    signs' queries (other signers than their 5 enrollment examples).
    """
    from unisign.evaluation.metrics import islr_accuracy
    from unisign.synthetic import load_generated_dataset

    dataset = load_generated_dataset(data)
    train = isolated_clips(dataset, "train", old_shots)
    words = sorted({clip.text for clip in train})
    old = SignVocabulary(embedder.fingerprint, embedder.embedding)
    train_embeddings = embedder.embed(train)
    for word in words:
        old.add(word, train_embeddings[torch.tensor([clip.text == word for clip in train])])
    rng = random.Random(seed)
    chosen = rng.sample(range(int(new_labels.max()) + 1), 20)
    signer_ids = sorted(set(new_signers.tolist()))
    enrolling = signer_ids[: len(signer_ids) // 2]
    new = SignVocabulary(embedder.fingerprint, embedder.embedding)
    query_rows, query_names = [], []
    for sign in chosen:
        of_sign = new_labels == sign
        enrolled = of_sign & torch.isin(new_signers, torch.tensor(enrolling))
        new.add(f"new-{sign}", new_embeddings[enrolled][:5])
        query_rows += (of_sign & ~enrolled).nonzero()[:, 0].tolist()
        query_names += [f"new-{sign}"] * int((of_sign & ~enrolled).sum())
    queries = new_embeddings[query_rows]

    def accuracies(split: str, margins: dict[str, float] | None = None) -> dict:
        clips = isolated_clips(dataset, split)
        references = [clip.text for clip in clips]
        embeddings = embedder.embed(clips)
        old_scores, new_scores = old.scores(embeddings), new.scores(embeddings)
        answers = {
            "generated": generated_words(embedder, clips),
            "prototype": [words[i] for i in old_scores.argmax(1)],
        }
        query_old, query_new = old.scores(queries), new.scores(queries)
        query_answers = [words[i] for i in query_old.argmax(1)]  # what the old recogniser would say (always wrong)
        result = {"clips": len(clips)}
        for name, answer in answers.items():
            alone = islr_accuracy(answer, references)["top1_per_instance"]
            chosen_margin = margins[name] if margins else None
            if chosen_margin is None:  # the smallest margin that costs the old signs at most half a point
                chosen_margin = next(
                    m
                    for m in MARGINS + (float("inf"),)
                    if alone
                    - islr_accuracy(merged_answers(old_scores, new_scores, answer, new.names, m), references)[
                        "top1_per_instance"
                    ]
                    <= 0.5
                )
            merged = merged_answers(old_scores, new_scores, answer, new.names, chosen_margin)
            new_merged = merged_answers(query_old, query_new, query_answers, new.names, chosen_margin)
            result[name] = {
                "margin": chosen_margin,
                "old_top1_alone": round(alone, 2),
                "old_top1_merged": round(islr_accuracy(merged, references)["top1_per_instance"], 2),
                "new_top1_merged": round(
                    100 * sum(a == b for a, b in zip(new_merged, query_names, strict=True)) / len(query_names), 2
                ),
                "new_top1_alone": round(
                    top_k_accuracy(query_new, torch.tensor([new.names.index(n) for n in query_names]), 1), 2
                ),
            }
        return result

    validation = accuracies("validation")
    test = accuracies("test", {name: validation[name]["margin"] for name in ("generated", "prototype")})
    return {"old_shots": old_shots, "validation": validation, "test": test}


def draw_figures(report: dict, embeddings: torch.Tensor, labels: torch.Tensor, signers: torch.Tensor, folder: Path):
    """`few_shot_embedding_space.png` (20 new signs of the draw, first embedding, PCA to 2-D) and
    `few_shot_accuracy.png` (top-1 against K, per embedding, method and N)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    shown = labels < 20
    points = embeddings[shown] - embeddings[shown].mean(0)
    _, _, directions = torch.pca_lowrank(points, q=2, center=False)
    xy = (points @ directions).numpy()
    colours = plt.get_cmap("tab20")(labels[shown].numpy() % 20)
    enrolling = (signers[shown] < signers.min() + len(set(signers.tolist())) // 2).numpy()
    figure, axis = plt.subplots(figsize=(6.4, 5.2))
    axis.scatter(xy[enrolling, 0], xy[enrolling, 1], c=colours[enrolling], marker="o", s=28, label="enrolling signers")
    axis.scatter(xy[~enrolling, 0], xy[~enrolling, 1], c=colours[~enrolling], marker="x", s=28, label="query signers")
    first = next(iter(report["results"]))
    axis.set_title(f"20 new signs ({first} embedding, PCA), colour = sign")
    axis.legend(loc="best", fontsize=8)
    axis.set_xticks([])
    axis.set_yticks([])
    figure.tight_layout()
    figure.savefig(folder / "few_shot_embedding_space.png", dpi=110)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(6.4, 4.2))
    for embedding, entry in report["results"].items():
        cells = [key for key in entry if key.endswith("-shot")]
        for ways in sorted({int(key.split("-")[0]) for key in cells}):
            for method in entry[cells[0]]:
                shots = sorted(int(key.split()[1].split("-")[0]) for key in cells if key.startswith(f"{ways}-way"))
                means = [entry[f"{ways}-way {k}-shot"][method]["top1"] for k in shots]
                axis.errorbar(
                    shots,
                    [m for m, _ in means],
                    yerr=[h for _, h in means],
                    marker="o",
                    capsize=3,
                    linestyle="-" if ways == 20 else "--",
                    label=f"{ways}-way, {embedding}, {method}",
                )
    axis.set_xticks(
        sorted(
            {
                int(key.split()[1].split("-")[0])
                for e in report["results"].values()
                for key in e
                if key.endswith("-shot")
            }
        )
    )
    axis.set_xlabel("K (enrollment examples per sign)")
    axis.set_ylabel("top-1 accuracy (%)")
    axis.set_title(f"New signs, queries from other signers ({report['draw']} draw)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(folder / "few_shot_accuracy.png", dpi=110)
    plt.close(figure)


def lora_comparison(
    folder: str, shots: list[int], seed: int, steps: int, learning_rate: float, ways: int = 20
) -> dict:
    """Enrollment against a LoRA fine-tune on the same K examples of `ways` new signs, top-1 on the same queries.

    The draw has `max(shots) + LORA_QUERY_SIGNERS` signers: the K enrolling signers are the first K, the queries
    every clip of the last `LORA_QUERY_SIGNERS`. The LoRA run (`unisign.training.setup.apply_lora`, the package's
    defaults: rank 16 on the language model's projections, the pose encoder trained in full) learns each example's
    sign name as the ISLR target for `steps` AdamW steps of 16 clips, without augmentation. A query is answered with
    the name of lowest loss among the `ways` names (a closed set, as enrollment's nearest prototype).
    """
    from unisign.apps.few_shot import enroll
    from unisign.models.unisign.modeling_unisign import UniSignForConditionalGeneration
    from unisign.training.arguments import TrainConfig
    from unisign.training.setup import apply_lora

    signers = few_shot_signers(max(shots) + LORA_QUERY_SIGNERS, seed)
    signs = new_signs(ways, seed)
    clips = few_shot_clips(signs, signers, seed=seed)
    names = [clip.gloss[0] for clip in clips[:: len(signers)]]
    queries = [
        clip for clip in clips if clip.extra["signer_id"] in {s.signer_id for s in signers[-LORA_QUERY_SIGNERS:]}
    ]
    truth = torch.tensor([names.index(clip.gloss[0]) for clip in queries])
    embedder = SignEmbedder.from_pretrained(folder)
    processor, task = embedder.processor, embedder.task
    query_embeddings = embedder.embed(queries)
    report = {"ways": ways, "queries": len(queries), "steps": steps, "learning_rate": learning_rate, "shots": {}}
    for k in shots:
        enrolling = {s.signer_id for s in signers[:k]}
        examples = [clip for clip in clips if clip.extra["signer_id"] in enrolling]
        start = time.perf_counter()
        vocabulary = enroll(embedder, {name: [c for c in examples if c.gloss[0] == name] for name in names})
        enroll_seconds = time.perf_counter() - start
        enrolled = top_k_accuracy(vocabulary.scores(query_embeddings), truth, 1)

        torch.manual_seed(0)
        config = TrainConfig()
        config.lora.enabled = True
        model = apply_lora(UniSignForConditionalGeneration.from_pretrained(folder, dtype=torch.float32), config)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate)
        order = torch.Generator().manual_seed(0)
        start = time.perf_counter()
        model.train()
        for _ in range(steps):
            batch = [examples[i] for i in torch.randperm(len(examples), generator=order)[:16]]
            inputs = processor(poses=batch, text=[clip.gloss[0] for clip in batch], task=task, return_tensors="pt")
            loss = model(**inputs).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        train_seconds = time.perf_counter() - start
        model.eval()
        answers = []
        with torch.no_grad():
            for query in queries:  # each name's summed token loss given the query: the lowest is the answer
                inputs = processor(poses=[query] * len(names), text=names, task=task, return_tensors="pt")
                logits = model(**inputs).logits
                labels = inputs["labels"]
                losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels, reduction="none")
                answers.append(int((losses * (labels != -100)).sum(1).argmin()))
        lora = float((torch.tensor(answers) == truth).float().mean() * 100)
        report["shots"][k] = {
            "enrollment_top1": round(enrolled, 1),
            "lora_top1": round(lora, 1),
            "enroll_seconds": round(enroll_seconds, 1),
            "lora_train_seconds": round(train_seconds, 1),
        }
        print(json.dumps({"lora": {k: report["shots"][k]}}), flush=True)
    return report


def spotting(folder: str, seed: int, window: int, quantile: float, margin: float, ways: int = 20) -> dict:
    """Spotting enrolled signs in synthetic streams (`SignSpotter`): `ways` new signs enrolled from 5 signers.

    Streams are isolated clips of one of the 5 other signers put one after the other, 2 per signer: "enrolled", 4
    enrolled signs; "with unknown", 3 enrolled signs with 2 signs of the draw that are not enrolled between them.
    Counts: streams whose reports are exactly the enrolled signs performed, in order; enrolled signs found; false
    reports (a sign not performed, or reported twice).
    """
    from unisign.apps.few_shot import enroll
    from unisign.apps.streaming import SignSpotter, spotting_threshold
    from unisign.models.unisign.pose_sample import PoseSample

    embedder = SignEmbedder.from_pretrained(folder)
    signers = few_shot_signers(10, seed)
    enrolling = {signer.signer_id for signer in signers[:5]}
    report = {"window": window, "quantile": quantile, "margin": margin}
    for kind, total_signs in (("enrolled", ways), ("with unknown", 2 * ways)):
        clips = few_shot_clips(new_signs(total_signs, seed), signers, seed=seed)
        names = list(dict.fromkeys(clip.gloss[0] for clip in clips))
        enrolled, unknown = names[:ways], names[ways:]
        examples = {
            name: [c for c in clips if c.gloss[0] == name and c.extra["signer_id"] in enrolling] for name in enrolled
        }
        vocabulary = enroll(embedder, examples)
        threshold = spotting_threshold(vocabulary, quantile)
        spotter = SignSpotter(embedder, vocabulary, threshold, margin, window)
        by_signer: dict[str, dict] = {}
        for clip in clips:
            if clip.extra["signer_id"] not in enrolling:
                by_signer.setdefault(clip.extra["signer_id"], {})[clip.gloss[0]] = clip
        rng = random.Random(seed)
        counts = {"streams": 0, "exact": 0, "found": 0, "performed": 0, "false_reports": 0, "unknown": 0}
        for performances in by_signer.values():
            for _ in range(2):
                if kind == "enrolled":
                    signs = performed = rng.sample(sorted(enrolled), 4)
                else:
                    performed, others = rng.sample(sorted(enrolled), 3), rng.sample(unknown, 2)
                    signs = [performed[0], others[0], performed[1], others[1], performed[2]]
                parts = [performances[name] for name in signs]
                stream = PoseSample(
                    "stream", np.concatenate([p.keypoints for p in parts]), np.concatenate([p.scores for p in parts])
                )
                found = [spotted.sign for spotted in spotter.spot(stream)]
                counts["streams"] += 1
                counts["exact"] += found == performed
                counts["found"] += sum(name in found for name in performed)
                counts["performed"] += len(performed)
                counts["false_reports"] += sum(name not in performed for name in found) + len(found) - len(set(found))
                counts["unknown"] += len(signs) - len(performed)
        report[kind] = {"threshold": round(threshold, 5), **counts}
        print(json.dumps({"spotting": {kind: report[kind]}}), flush=True)
    return report


def cpu_name() -> str:
    """The CPU model and its vector extensions (from /proc/cpuinfo)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    vector = [flag for flag in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if flag in flags]
    return f"{name} ({', '.join(vector) or 'no AVX2'})"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="Uni-Sign model folder")
    parser.add_argument("--draw", choices=tuple(DRAW_SEEDS), default="validation")
    parser.add_argument("--embeddings", nargs="+", choices=EMBEDDINGS, default=list(EMBEDDINGS))
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--signs", type=int, default=100, help="new signs in the draw")
    parser.add_argument("--signers", type=int, default=10, help="signers in the draw (half enroll, half query)")
    parser.add_argument("--ways", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--shots", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", help="the main job's synthetic dataset folder: also score its own signs")
    parser.add_argument("--old-shots", type=int, default=20, help="training clips per old sign for its prototype")
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument("--figures", help="folder for the embedding-space and accuracy-against-K pictures")
    parser.add_argument(
        "--lora-shots", type=int, nargs="+", help="only compare enrollment with LoRA fine-tuning at these K (20-way)"
    )
    parser.add_argument("--spotting", action="store_true", help="only score spotting enrolled signs in streams")
    parser.add_argument("--spot-window", type=int, default=30, help="--spotting: window frames")
    parser.add_argument("--spot-quantile", type=float, default=0.1, help="--spotting: threshold's quantile")
    parser.add_argument("--spot-margin", type=float, default=0.0, help="--spotting: least lead over the second")
    parser.add_argument("--lora-steps", type=int, default=200, help="LoRA optimizer steps (16 clips each)")
    parser.add_argument("--lora-lr", type=float, default=1e-3, help="LoRA learning rate (AdamW)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seed = DRAW_SEEDS[args.draw]
    if args.lora_shots or args.spotting:
        if args.spotting:
            report = spotting(args.model, seed, args.spot_window, args.spot_quantile, args.spot_margin)
        else:
            report = lora_comparison(args.model, args.lora_shots, seed, args.lora_steps, args.lora_lr)
        report.update(model=args.model, draw=args.draw, cpu=cpu_name(), threads=args.threads)
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
        return report
    signs = new_signs(args.signs, seed)
    clips = few_shot_clips(signs, few_shot_signers(args.signers, seed), seed=seed)
    labels = torch.tensor([index for index in range(len(signs)) for _ in range(args.signers)])
    signers = torch.tensor([int(clip.extra["signer_id"].split("-")[1]) for clip in clips])
    report = {
        "model": args.model,
        "draw": args.draw,
        "signs": args.signs,
        "signers": args.signers,
        "episodes": args.episodes,
        "cpu": cpu_name(),
        "threads": args.threads,
        "torch": torch.__version__,
        "results": {},
    }
    first_embeddings = None
    for embedding in args.embeddings:
        embedder = SignEmbedder.from_pretrained(args.model, embedding)
        start = time.perf_counter()
        embeddings = embedder.embed(clips)
        first_embeddings = embeddings if first_embeddings is None else first_embeddings
        entry = {"embed_seconds": round(time.perf_counter() - start, 1)}
        for ways in args.ways:
            for shots in args.shots:
                entry[f"{ways}-way {shots}-shot"] = episodes(
                    embeddings, labels, signers, ways, shots, args.episodes, tuple(args.methods), seed
                )
        vocabulary = SignVocabulary(embedder.fingerprint, embedding)
        for sign in range(20):
            vocabulary.add(str(sign), embeddings[labels == sign][:5])
        entry["timing"] = timing(embedder, clips, vocabulary)
        if args.data:
            entry["old_signs"] = old_signs(embedder, args.data, embeddings, labels, signers, args.old_shots, seed)
        report["results"][embedding] = entry
        print(json.dumps({embedding: entry}), flush=True)
    if args.figures:
        draw_figures(report, first_embeddings, labels, signers, Path(args.figures))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
