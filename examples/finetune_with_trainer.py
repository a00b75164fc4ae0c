"""Fine-tune a Uni-Sign model with `transformers`' `Seq2SeqTrainer`: dataset -> processor -> collator -> trainer.

    python examples/finetune_with_trainer.py --model uni-sign-how2sign --data my-pose-dataset --output-dir ft
    python examples/finetune_with_trainer.py --model uni-sign-how2sign --data user/pose-dataset --lora --max-steps 500

`--model` is a Uni-Sign folder or Hub id with its processor (`unisign convert`, `train.py`, or a small random model
for CPU experiments: see docs/finetune.md). `--data` is a pose dataset (`unisign.data.save_pose_dataset`: Parquet
splits, a folder or a Hub id). The trainer scores the evaluation split with `generate` (`predict_with_generate`) and
`unisign.evaluation.metrics`, then saves the model (or the LoRA adapter), the processor and `eval_results.json` in
`--output-dir`; `unisign card` and `unisign push` share it.
"""

import argparse

import numpy as np
from transformers import AutoModelForSeq2SeqLM, AutoProcessor, Seq2SeqTrainer, Seq2SeqTrainingArguments

from unisign.data import load_pose_dataset
from unisign.data.dataset import SignDataset
from unisign.evaluation.metrics import LANGUAGES, compute_metrics
from unisign.models.unisign.processing_unisign import UniSignDataCollator
from unisign.training.arguments import TASKS, LoraArguments, TrainConfig
from unisign.training.setup import apply_lora


def build_parser() -> argparse.ArgumentParser:
    """The example's options (a few of `Seq2SeqTrainingArguments`; the rest keep their defaults)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="Uni-Sign folder or Hub id, with its processor")
    parser.add_argument("--data", required=True, help="pose dataset folder or Hub id (Parquet splits)")
    parser.add_argument("--output-dir", required=True, help="where the trainer writes and the model is saved")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--eval-split", default="dev")
    parser.add_argument("--task", choices=TASKS, default="SLT", help="the target: SLT text, CSLR glosses, ISLR word")
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="the data's language: the prompt the model is trained and saved with, and the references' for the scores "
        "(default: the processor's)",
    )
    parser.add_argument("--lora", action="store_true", help="train LoRA adapters (and the pose encoder) only")
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--eval-steps", type=int, default=500)
    parser.add_argument("--generation-max-length", type=int, default=100, help="longest generated text, in tokens")
    parser.add_argument("--generation-num-beams", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    return parser


def main(argv: list[str] | None = None) -> Seq2SeqTrainer:
    """Fine-tune, evaluate and save; returns the trainer (its `state.log_history` holds the losses)."""
    args = build_parser().parse_args(argv)
    processor = AutoProcessor.from_pretrained(args.model)
    lang = args.lang or processor.language
    if lang not in processor.prompts:
        raise SystemExit(f"The processor of {args.model} has no `--lang {lang}` prompt: {sorted(processor.prompts)}.")
    # the saved processor's default prompt is the one the model is trained on (English data from a Chinese start)
    processor.language = lang
    model = AutoModelForSeq2SeqLM.from_pretrained(args.model)
    # the model's own default (`max_new_tokens=100`) would take precedence over the Trainer's `max_length`
    model.generation_config.max_new_tokens = None
    if args.lora:
        model = apply_lora(model, TrainConfig(lora=LoraArguments(enabled=True)))

    # numpy rows: arrays come out of Arrow without a Python list per keypoint (about ten times faster)
    splits = load_pose_dataset(args.data).with_format("numpy")
    train_dataset = SignDataset(splits[args.train_split], processor, args.task, lang, train=True)
    eval_dataset = SignDataset(splits[args.eval_split], processor, args.task, lang, train=False)

    def score(prediction) -> dict[str, float]:
        """`unisign.evaluation.metrics` scores of the generated ids against the labels (-100 is padding in both)."""
        generated = np.where(prediction.predictions < 0, processor.tokenizer.pad_token_id, prediction.predictions)
        texts = processor.batch_decode(generated)
        references = processor.batch_decode(prediction.label_ids)
        return compute_metrics(args.task.lower(), texts, references, lang=lang)

    training_arguments = Seq2SeqTrainingArguments(
        output_dir=args.output_dir,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_steps=args.max_steps,
        eval_strategy="steps",
        eval_steps=args.eval_steps,
        logging_steps=max(1, min(50, args.max_steps // 10)),
        save_strategy="no",
        predict_with_generate=True,
        generation_max_length=args.generation_max_length,
        generation_num_beams=args.generation_num_beams,
        remove_unused_columns=False,  # the collator needs the pose columns, which `forward` names differently
        report_to=[],
        seed=args.seed,
    )
    trainer = Seq2SeqTrainer(
        model=model,
        args=training_arguments,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=UniSignDataCollator(processor),
        processing_class=processor,
        compute_metrics=score,
    )
    trainer.train()
    metrics = trainer.evaluate()
    # the Trainer passed its settings to `generate`: the folder's generation config gets them, so that `generate` and
    # `pipeline()` with the shared folder generate as the evaluation did (not up to the library's default 20 tokens)
    model.generation_config.update(max_length=args.generation_max_length, num_beams=args.generation_num_beams)
    trainer.save_model(args.output_dir)
    model.generation_config.save_pretrained(args.output_dir)  # a LoRA adapter's folder too
    trainer.save_metrics("eval", metrics)
    print(f"Saved to {args.output_dir}: {metrics}")
    return trainer


if __name__ == "__main__":
    main()
