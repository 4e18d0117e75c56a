"""Measurements behind the tutorial's choices: its training recipe, its budget, and how far it is from convergence.

    python benchmarks/probes.py sweep         # learning-rate schedules and batch sizes, autoencoder and U-Net
    python benchmarks/probes.py budget        # the tutorial's recipe for more or fewer epochs
    python benchmarks/probes.py seeds         # the spread of test PSNR over seeds, for one recipe
    python benchmarks/probes.py convergence   # the U-Net trained to convergence: test PSNR after every epoch

All of them train at Gaussian noise 0.5 with ``utils.train_denoiser`` and score the 10,000 MNIST test
images with the benchmark's test noise. ``sweep``, ``budget`` and ``seeds`` train on the notebook's 40,000
training images; ``convergence`` on all 60,000 (it scores the test set after every epoch, so it needs no
validation images). Each training runs in a fresh process. Results are printed as a table and written as
JSON to ``benchmarks/results/`` (git ignores it); ``benchmarks/README.md`` explains what they showed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import run as benchmark

MODELS = {"autoencoder": "build_autoencoder", "U-Net": "build_unet"}
# The recipes of the sweep: batch size and learning-rate schedule. "warmup-cosine" is Keras's CosineDecay with
# warmup_target: a linear warm-up over the first fraction of the steps, then a cosine decay to zero.
RECIPES = {
    "constant 2e-3, batch 128": {"batch_size": 128, "schedule": "constant", "peak": 2e-3},
    "constant 2e-3, batch 64": {"batch_size": 64, "schedule": "constant", "peak": 2e-3},
    "constant 1e-3, batch 64": {"batch_size": 64, "schedule": "constant", "peak": 1e-3},
    "warm-up 10% + cosine, peak 2e-3, batch 64": {"batch_size": 64, "schedule": "warmup-cosine", "peak": 2e-3},
    "warm-up 10% + cosine, peak 4e-3, batch 64": {"batch_size": 64, "schedule": "warmup-cosine", "peak": 4e-3},
    "warm-up 10% + cosine, peak 8e-3, batch 64": {"batch_size": 64, "schedule": "warmup-cosine", "peak": 8e-3},
    "warm-up 10% + cosine, peak 4e-3, batch 128": {"batch_size": 128, "schedule": "warmup-cosine", "peak": 4e-3},
    "warm-up 10% + cosine, peak 8e-3, batch 128": {"batch_size": 128, "schedule": "warmup-cosine", "peak": 8e-3},
    "warm-up 10% + cosine, peak 4e-3, batch 32": {"batch_size": 32, "schedule": "warmup-cosine", "peak": 4e-3},
    "warm-up 10% + cosine, peak 2e-3, batch 32": {"batch_size": 32, "schedule": "warmup-cosine", "peak": 2e-3},
    "warm-up 10% + cosine, peak 8e-3, batch 32": {"batch_size": 32, "schedule": "warmup-cosine", "peak": 8e-3},
    "warm-up 30% + cosine, peak 4e-3, batch 32": {"batch_size": 32, "schedule": "warmup-cosine", "peak": 4e-3,
                                                 "warmup": 0.3},
    "constant 1e-3, batch 32": {"batch_size": 32, "schedule": "constant", "peak": 1e-3},
    "warm-up 10% + cosine, peak 2e-3, batch 16": {"batch_size": 16, "schedule": "warmup-cosine", "peak": 2e-3},
    "warm-up 10% + cosine, peak 4e-3, batch 16": {"batch_size": 16, "schedule": "warmup-cosine", "peak": 4e-3},
    "warm-up 3% + cosine, peak 4e-3, batch 64": {"batch_size": 64, "schedule": "warmup-cosine", "peak": 4e-3,
                                                "warmup": 0.03},
    "warm-up 30% + cosine, peak 4e-3, batch 64": {"batch_size": 64, "schedule": "warmup-cosine", "peak": 4e-3,
                                                 "warmup": 0.3},
    "cosine, no warm-up, peak 4e-3, batch 64": {"batch_size": 64, "schedule": "warmup-cosine", "peak": 4e-3,
                                               "warmup": 0.0},
    "linear decay, peak 4e-3, batch 64": {"batch_size": 64, "schedule": "linear", "peak": 4e-3},
    "step decay (/10 at 50%, 75%), peak 4e-3, batch 64": {"batch_size": 64, "schedule": "steps", "peak": 4e-3},
}


# What train_denoiser does by default (its batch size and learning rate), left to utils.
TUTORIAL_RECIPE = {"batch_size": None, "schedule": "the tutorial's"}


def schedule(recipe, total_steps):
    """The recipe's learning rate: one of Keras's schedules, over ``total_steps``."""
    import keras

    peak, shape = recipe["peak"], recipe["schedule"]
    if shape == "constant":  # a schedule that never decays: train_denoiser would anneal a plain number
        return keras.optimizers.schedules.ExponentialDecay(peak, decay_steps=1, decay_rate=1.0)
    if shape == "warmup-cosine":
        warmup_steps = round(recipe.get("warmup", 0.1) * total_steps)
        return keras.optimizers.schedules.CosineDecay(0.0 if warmup_steps else peak, total_steps - warmup_steps,
                                                      warmup_target=peak if warmup_steps else None,
                                                      warmup_steps=warmup_steps)
    if shape == "linear":
        return keras.optimizers.schedules.PolynomialDecay(peak, total_steps, end_learning_rate=0.0, power=1.0)
    if shape == "steps":
        return keras.optimizers.schedules.PiecewiseConstantDecay(
            [total_steps // 2, 3 * total_steps // 4], [peak, peak / 10, peak / 100])
    raise ValueError(f"unknown schedule {shape!r}")


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("probe", choices=("sweep", "budget", "seeds", "convergence"), help="which measurement to run")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS), metavar="MODEL",
                        help="models for 'sweep', 'budget' and 'seeds' (default: autoencoder U-Net)")
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), metavar="RECIPE",
                        help="recipes for 'sweep' (default: all)")
    parser.add_argument("--epochs", type=int, nargs="+",
                        help="epochs: 2 for 'sweep' and 'seeds', 1 2 3 4 6 for 'budget', 30 for 'convergence'")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44], help="seeds for 'seeds' (default: 42 43 44)")
    parser.add_argument("--train-size", type=int,
                        help="training images (default: 40,000, the notebook's; all 60,000 for 'convergence')")
    parser.add_argument("--test-size", type=int, default=10_000, help="test images scored (default: all 10,000)")
    parser.add_argument("--mnist-path", help="path to mnist.npz (default: the MNIST_PATH variable, then Keras)")
    parser.add_argument("--output-dir", type=Path, default=benchmark.RESULTS_DIR, help="where to write the JSON")
    arguments = parser.parse_args(argv)
    default_epochs = {"sweep": [2], "seeds": [2], "budget": [1, 2, 3, 4, 6], "convergence": [30]}
    arguments.epochs = arguments.epochs or default_epochs[arguments.probe]
    arguments.train_size = arguments.train_size or (60_000 if arguments.probe == "convergence" else 40_000)
    arguments.recipes = arguments.recipes or list(RECIPES)
    if min(arguments.epochs) < 1 or arguments.train_size < 1 or arguments.test_size < 1:
        parser.error("--epochs, --train-size and --test-size must be at least 1")
    if arguments.probe in ("convergence", "sweep", "seeds") and len(arguments.epochs) != 1:
        parser.error(f"'{arguments.probe}' takes one number of epochs")
    return arguments


def train_and_score(task):
    """Train one model with one recipe for one budget, and score it on the test set. Runs in its own process."""
    utils, _ = benchmark._start_worker()
    import keras

    (train_images, _), (test_images, _) = utils.load_mnist(task["mnist_path"], verbose=task.get("announce", False))
    if task["train_size"] > len(train_images) or task["test_size"] > len(test_images):
        raise ValueError(f"this data set has {len(train_images):,} training and {len(test_images):,} test images")
    # The notebook's training images come before its validation images (the last 5,000, or a tenth offline);
    # asking for more than that (the convergence run) takes all of them.
    held_out = min(5_000, len(train_images) // 10)
    if task["train_size"] <= len(train_images) - held_out:
        train_images = train_images[:-held_out]
    train_images = train_images[:task["train_size"]]
    test_images = test_images[:task["test_size"]]
    noisy_test = benchmark._noisy(utils, test_images, 0.5, 1)
    recipe, epochs = task["recipe"], task["epochs"]
    options = {"batch_size": recipe["batch_size"] or utils.BATCH_SIZE}
    if recipe != TUTORIAL_RECIPE:  # the tutorial's own recipe is train_denoiser's defaults, untouched
        options["learning_rate"] = schedule(recipe, epochs * math.ceil(len(train_images) / recipe["batch_size"]))
    keras.utils.set_random_seed(task["seed"])
    model = getattr(utils, MODELS[task["model"]])()
    start = time.perf_counter()
    # The test images as validation data: their PSNR after every epoch (only the convergence curve uses it).
    validation = (noisy_test, test_images) if task.get("score_every_epoch") else None
    history = utils.train_denoiser(model, train_images, epochs=epochs, seed=task["seed"], validation_data=validation,
                                   verbose=1 if validation else 0, **options)
    seconds = time.perf_counter() - start
    restored = model.predict(noisy_test, batch_size=500, verbose=0)
    psnr = float(utils.psnr(test_images, restored).mean())
    print(f"[{task['model']}, {task['label']}] {epochs} epoch(s), seed {task['seed']}: PSNR {psnr:.2f} dB in "
          f"{seconds:.0f} s", flush=True)
    return {"model": task["model"], "label": task["label"], "epochs": epochs, "seed": task["seed"],
            "batch_size": options["batch_size"], "psnr": psnr, "training_seconds": seconds,
            "images_per_second": len(train_images) * epochs / sum(history.history["epoch_seconds"]),
            "test_psnr_per_epoch": history.history.get("val_psnr", []), "train_images": len(train_images)}


def main(argv=None):
    arguments = parse_arguments(argv)
    base = {"mnist_path": arguments.mnist_path or os.environ.get("MNIST_PATH"), "train_size": arguments.train_size,
            "test_size": arguments.test_size, "seed": benchmark.SEED}
    tasks = []
    if arguments.probe == "sweep":
        tasks = [{"model": model, "label": label, "recipe": RECIPES[label], "epochs": arguments.epochs[0]}
                 for label in arguments.recipes for model in arguments.models]
    elif arguments.probe == "budget":
        tasks = [{"model": model, "label": "tutorial's recipe", "recipe": TUTORIAL_RECIPE, "epochs": epochs}
                 for epochs in arguments.epochs for model in arguments.models]
    elif arguments.probe == "seeds":
        tasks = [{"model": model, "label": "tutorial's recipe", "recipe": TUTORIAL_RECIPE,
                  "epochs": arguments.epochs[0], "seed": seed} for seed in arguments.seeds for model in arguments.models]
    else:
        tasks = [{"model": "U-Net", "label": "tutorial's recipe", "recipe": TUTORIAL_RECIPE,
                  "epochs": arguments.epochs[0], "score_every_epoch": True}]
    start = time.perf_counter()
    rows = [benchmark.run_in_fresh_process(train_and_score, {**base, **task, "announce": index == 0})
            for index, task in enumerate(tasks)]
    lines = table(arguments.probe, rows)
    result = {"probe": arguments.probe, "train_images": rows[0]["train_images"], "test_images": arguments.test_size,
              "rows": rows, "wall_seconds": time.perf_counter() - start}
    arguments.output_dir.mkdir(parents=True, exist_ok=True)
    path = arguments.output_dir / f"probe_{arguments.probe}.json"
    path.write_text(json.dumps(result, indent=1))
    if arguments.probe == "convergence":
        plot_convergence(rows[0], arguments.output_dir / "convergence.png")
    print("\n".join(lines))
    print(f"Wrote {path.name} to {arguments.output_dir.name}/ in {result['wall_seconds'] / 60:.1f} min.")
    return result


def plot_convergence(row, path):
    """The test PSNR after every epoch of the convergence run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = row["test_psnr_per_epoch"]
    figure, axis = plt.subplots(figsize=(6, 3.2))
    axis.plot(range(1, len(scores) + 1), scores, marker="o", markersize=3)
    axis.set(xlabel="epoch", ylabel="test PSNR (dB), Gaussian 0.5",
             title=f"U-Net, {len(scores)} epochs on {row['train_images']:,} images: {row['psnr']:.2f} dB")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def table(probe, rows):
    """A Markdown table of the rows, one line per recipe, budget or seed, one column pair per model."""
    if probe == "convergence":
        (row,) = rows
        lines = ["| epoch | test PSNR (dB) |", "|---:|---:|"]
        lines += [f"| {epoch} | {psnr:.2f} |" for epoch, psnr in enumerate(row["test_psnr_per_epoch"], start=1)]
        summary = (f"\n{row['epochs']} epochs on {row['train_images']:,} images: {row['psnr']:.2f} dB, "
                   f"{row['training_seconds'] / 60:.1f} min of training.")
        return [*lines, summary]
    key = {"sweep": "label", "budget": "epochs", "seeds": "seed"}[probe]
    models = list(dict.fromkeys(row["model"] for row in rows))
    lines = [f"| {key} | " + " | ".join(f"{model} PSNR (dB) | {model} s" for model in models) + " |",
             "|---|" + "---:|---:|" * len(models)]
    for start in range(0, len(rows), len(models)):  # the tasks run one model after the other, for each value
        line = rows[start:start + len(models)]
        cells = [f"{row[name]:.{digits}f}" for row in line for name, digits in (("psnr", 2), ("training_seconds", 0))]
        lines.append(f"| {line[0][key]} | " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":
    main()
