"""Benchmark every denoiser of the tutorial under one fixed protocol.

    python benchmarks/run.py             # the full protocol: 45 min on 2 CPU cores (24 without the speed table)
    python benchmarks/run.py --no-speed  # only the results table
    python benchmarks/run.py --quick     # a smaller version of the same, in a few minutes

The protocol:

* data: MNIST from ``--mnist-path`` or the ``MNIST_PATH`` variable (see
  ``utils.load_mnist``); the first ``--train-size`` training images (all
  60,000 by default) and the official 10,000 test images;
* noise: Gaussian at levels 0.3 and 0.5, with fixed seeds. Each learned model
  is trained once per level, for the same number of epochs, with the
  tutorial's ``train_denoiser`` (fresh noise every epoch, batch size 128);
* every learned model that ``utils.py`` offers, the keras.io-style baseline
  included, and the classical filters, each tuned on the last 300 training
  images (never on test images);
* each model trains and is measured in a fresh Python process, so that its
  peak resident memory is its own and no model warms the next one's caches.

For each row it reports parameters, FLOPs per image, training and denoising
throughput (images/s), peak resident memory, MSE, PSNR and SSIM at each level,
and wall time, with ratios to the keras.io baseline from the same run
(absolute times drift on a shared machine; ratios drift much less). Denoising
throughput is the median of three timed passes over the test set.

A second table compares other ways of training the same model (oneDNN off,
other ways of feeding batches, XLA, mixed precision, threads, batch size)
against the tutorial's own ``train_denoiser`` (``fit`` on NumPy arrays, oneDNN
on), on the autoencoder and the U-Net. Mixed bfloat16 is timed only where the
CPU computes it natively, or with ``--emulated-bfloat16``.

Every worker runs TensorFlow with oneDNN (``TF_ENABLE_ONEDNN_OPTS=1``), as the
notebook does, except the speed table's "oneDNN off" rows.

Everything goes to ``benchmarks/results/`` (git ignores it): ``results.md``,
``results.csv``, ``training_speed.csv``, ``frontier.png`` and ``run.json``.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import math
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
SEED = 42
LEVELS = (0.3, 0.5)
TUNING_SIZE = 300
# Name in the tables -> (builder in utils, loss), as the notebook trains them. The baseline comes first:
# ratios are against it.
MODELS = {
    "keras.io baseline": ("build_baseline_autoencoder", "binary_crossentropy"),
    "autoencoder": ("build_autoencoder", "binary_crossentropy"),
    "U-Net": ("build_unet", "binary_crossentropy"),
    "residual (DnCNN-style)": ("build_residual_denoiser", "mean_squared_error"),
}
BASELINE = "keras.io baseline"
DEFAULT = "train_denoiser: fit on NumPy arrays, oneDNN on"
# Ways to train, each compared with the tutorial's own on the same model, data and noise (see training_speed).
SPEED_VARIANTS = {
    DEFAULT: {},
    "oneDNN off (TF_ENABLE_ONEDNN_OPTS=0)": {"onednn": False},
    "tf.data pipeline, fixed prefetch, no autotuning": {"feed": "tf.data"},
    "tf.data pipeline, autotuned prefetch": {"feed": "autotune"},
    "PyDataset, fresh noise per batch": {"feed": "pydataset"},
    "one fit call for all epochs, one fixed noisy copy": {"feed": "single_fit"},
    "XLA (jit_compile=True)": {"jit_compile": True},
    "mixed_bfloat16": {"mixed_bfloat16": True},
    "1 inter-op thread": {"inter_op_threads": 1},
    "twice the batch size": {"batch_scale": 2},
}
BFLOAT16 = "mixed_bfloat16"
# Variants that time TensorFlow's own switches and pipelines: skipped under another Keras backend.
TENSORFLOW_ONLY = ("oneDNN off (TF_ENABLE_ONEDNN_OPTS=0)", "tf.data pipeline, fixed prefetch, no autotuning",
                   "tf.data pipeline, autotuned prefetch", "1 inter-op thread")


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="3,000 training and 1,000 test images, batch size 64, filters tuned on 100 images, and\n"
                             "only the plain and the default way of training in the speed comparison (under 5 min)")
    parser.add_argument("--train-size", type=int, help="training images (default: all 60,000; 4,000 with --quick)")
    parser.add_argument("--test-size", type=int, help="test images (default: all 10,000; 2,000 with --quick)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs for every learned model (default: 4, as in the notebook)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS), metavar="MODEL",
                        help=f"learned models to run (default: all of {', '.join(MODELS)})")
    parser.add_argument("--batch-size", type=int,
                        help="images per training step (default: train_denoiser's, the tutorial's recipe)")
    parser.add_argument("--no-classical", action="store_true", help="skip the classical filters")
    parser.add_argument("--no-speed", action="store_true", help="skip the training-speed comparison")
    parser.add_argument("--speed-size", type=int,
                        help="training images per speed run (default: 8,000; 3,000 with --quick)")
    parser.add_argument("--emulated-bfloat16", action="store_true",
                        help="also time mixed_bfloat16 on a CPU without bfloat16 instructions (slow: about 10 min)")
    parser.add_argument("--mnist-path", help="path to mnist.npz (default: the MNIST_PATH variable, then Keras)")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR, help="where to write the results")
    arguments = parser.parse_args(argv)
    arguments.train_size = arguments.train_size or (3_000 if arguments.quick else 60_000)
    arguments.test_size = arguments.test_size or (1_000 if arguments.quick else 10_000)
    arguments.speed_size = arguments.speed_size or (3_000 if arguments.quick else 8_000)
    arguments.tuning_size = 100 if arguments.quick else TUNING_SIZE
    for name in ("train_size", "test_size", "epochs", "speed_size", "batch_size"):
        if getattr(arguments, name) is not None and getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if BASELINE not in arguments.models:
        parser.error(f"--models must include {BASELINE!r}: every ratio is taken against it")
    return arguments


# --------------------------------------------------------------------------
# Work done in a fresh process for each model
# --------------------------------------------------------------------------


def _start_worker(inter_op_threads=None, onednn=True):
    """Start TensorFlow in a worker: oneDNN and thread settings must come before it starts.

    Returns the tutorial's ``utils`` module and this folder's ``hardware`` module. Importing utils starts
    TensorFlow without its start-up notices, as in the notebook.
    """
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1" if onednn else "0"
    sys.path.insert(0, str(ROOT))
    import utils

    from benchmarks import hardware

    if inter_op_threads:
        import tensorflow as tf

        tf.config.threading.set_inter_op_parallelism_threads(inter_op_threads)
    return utils, hardware


def _peak_memory_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _load_data(utils, task):
    # The first worker says which data it loaded (the full set, or the offline fallback subset) and,
    # without an explicit file, leaves a copy for the later workers: offline, each would otherwise
    # wait for Keras's failed download again.
    import numpy as np

    copy = task.get("data_copy")
    if copy and Path(copy).is_file():
        (train_images, _), (test_images, _) = utils.load_mnist(copy, verbose=False)
    else:
        (train_images, train_labels), (test_images, test_labels) = utils.load_mnist(
            task["mnist_path"], verbose=task.get("announce", False))
        if copy:
            def to_bytes(images):
                return np.round(images[..., 0] * 255).astype(np.uint8)  # exact: they were bytes / 255

            temporary = Path(copy).with_suffix(".partial.npz")
            np.savez(temporary, x_train=to_bytes(train_images), y_train=train_labels, x_test=to_bytes(test_images),
                     y_test=test_labels)
            os.replace(temporary, copy)
    if task["train_size"] > len(train_images) or task["test_size"] > len(test_images):
        raise ValueError(f"this data set has {len(train_images):,} training and {len(test_images):,} test images; "
                         f"asked for {task['train_size']:,} and {task['test_size']:,}")
    # The filters are tuned on the last training images. The networks may train on the same images,
    # which is fair: neither ever sees a test image.
    return (train_images[:task["train_size"]], train_images[-task.get("tuning_size", TUNING_SIZE):],
            test_images[:task["test_size"]])


def _noisy(utils, images, level, purpose):
    """Gaussian noise with a seed fixed by the level and the purpose: the same in every process."""
    return utils.add_noise(images, "gaussian", level, seed=(SEED, round(level * 100), purpose))


def _timed_predict(model, images, repeats=3):
    model.predict(images[:500], batch_size=500, verbose=0)  # traces the graph: not timed
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        restored = model.predict(images, batch_size=500, verbose=0)
        times.append(time.perf_counter() - start)
    return restored, len(images) / statistics.median(times)


def _quality(utils, clean, restored):
    return {"mse": float(utils.mse(clean, restored).mean()), "psnr": float(utils.psnr(clean, restored).mean()),
            "ssim": float(utils.ssim(clean, restored).mean())}


def train_and_evaluate(task):
    """Train one model at each noise level and measure it. Runs in its own process."""
    utils, hardware = _start_worker()
    import keras

    train_images, _, test_images = _load_data(utils, task)
    name, batch_size = task["model"], task["batch_size"]
    builder, loss = MODELS[name]
    rows = []
    for level in LEVELS:
        start = time.perf_counter()
        print(f"[{name}, level {level}] training on {len(train_images):,} images for {task['epochs']} epoch(s)",
              flush=True)
        keras.utils.set_random_seed(SEED)
        model = getattr(utils, builder)()
        train_start = time.perf_counter()
        history = utils.train_denoiser(model, train_images, noise_level=level, epochs=task["epochs"],
                                       batch_size=batch_size or utils.BATCH_SIZE, seed=SEED, loss=loss, verbose=1)
        train_seconds = time.perf_counter() - train_start
        restored, inference_rate = _timed_predict(model, _noisy(utils, test_images, level, 1))
        rows.append({
            "method": name, "level": level, "parameters": model.count_params(), "flops": hardware.count_flops(model),
            # The median epoch, wall time of its whole fit call (the first epoch also holds the tracing).
            "train_images_per_s": len(train_images) / statistics.median(history.history["epoch_seconds"]),
            "train_seconds": train_seconds, "infer_images_per_s": inference_rate,
            **_quality(utils, test_images, restored), "wall_seconds": time.perf_counter() - start,
        })
        row = rows[-1]
        print(f"[{name}, level {level}] PSNR {row['psnr']:.2f} dB, SSIM {row['ssim']:.3f}, "
              f"{row['train_images_per_s']:,.0f} training and {inference_rate:,.0f} denoised images/s", flush=True)
    for row in rows:
        row["peak_memory_mb"] = _peak_memory_mb()  # this process trained only this model
    return rows


def classical_filters(task):
    """Tune each classical filter on validation images, then measure it on the test set."""
    start = time.perf_counter()
    utils, _ = _start_worker()
    _, tuning_images, test_images = _load_data(utils, task)
    rows = []
    for level in LEVELS:
        noisy_test = _noisy(utils, test_images, level, 1)
        noisy_tuning = _noisy(utils, tuning_images, level, 2)
        for method in utils.CLASSICAL_FILTERS:
            method_start = time.perf_counter()
            strength, _ = utils.tune_classical_filter(method, tuning_images, noisy_tuning)
            # Fast filters are timed three times (median); the slow ones once, since they take minutes.
            repeats = 3 if method in ("median", "gaussian_blur", "wavelet") else 1
            times = []
            for _ in range(repeats):
                filter_start = time.perf_counter()
                restored = utils.classical_denoise(noisy_test, method, strength)
                times.append(time.perf_counter() - filter_start)
            rows.append({
                "method": f"{method.replace('_', ' ')} filter", "setting": strength, "level": level, "parameters": 0,
                "flops": None, "train_images_per_s": None, "train_seconds": 0.0,
                "infer_images_per_s": len(test_images) / statistics.median(times),
                **_quality(utils, test_images, restored), "peak_memory_mb": None,
                "wall_seconds": time.perf_counter() - method_start,
            })
            print(f"[{method} filter, level {level}] strength {strength}: PSNR {rows[-1]['psnr']:.2f} dB", flush=True)
        rows.append({"method": "noisy input", "level": level, "parameters": 0, "flops": None,
                     "train_images_per_s": None, "train_seconds": 0.0, "infer_images_per_s": None,
                     **_quality(utils, test_images, noisy_test), "peak_memory_mb": None, "wall_seconds": 0.0})
    memory = _peak_memory_mb()
    for row in rows:
        if row["method"] != "noisy input":
            row["peak_memory_mb"] = memory  # one process ran every filter: their common peak
    print(f"[classical filters] done in {time.perf_counter() - start:.0f} s", flush=True)
    return rows


def training_speed(task):
    """Train one model one way at Gaussian 0.5; measure its throughput and test PSNR. Runs in its own process."""
    variant = SPEED_VARIANTS[task["variant"]]
    utils, hardware = _start_worker(inter_op_threads=variant.get("inter_op_threads"),
                                    onednn=variant.get("onednn", True))
    import keras

    train_images, _, test_images = _load_data(utils, task)
    builder, loss = MODELS[task["model"]]
    batch_size = (task["batch_size"] or utils.BATCH_SIZE) * variant.get("batch_scale", 1)
    note = ""
    if variant.get("mixed_bfloat16"):
        # Timed even without hardware support, if asked, to show what emulation costs.
        hardware.set_precision(True)
        note = "bfloat16 in hardware" if hardware.bfloat16_supported() else "no bfloat16 in this CPU: emulated"
    keras.utils.set_random_seed(SEED)
    model = getattr(utils, builder)()
    print(f"[speed: {task['model']}, {task['variant']}] {len(train_images):,} images x {task['epochs']} epochs",
          flush=True)
    if not variant.get("feed") and not variant.get("jit_compile"):
        history = utils.train_denoiser(model, train_images, epochs=task["epochs"], batch_size=batch_size, seed=SEED,
                                       loss=loss, verbose=0)
        epoch_seconds = history.history["epoch_seconds"]
    else:
        epoch_seconds, note = _train_another_way(utils, hardware, model, train_images, variant, task, loss, batch_size)
    restored = model.predict(_noisy(utils, test_images, 0.5, 1), batch_size=500, verbose=0).astype("float32")
    # Epochs after the first: the first also traces the training graph, which costs the same in every variant.
    steady = epoch_seconds[1:] or epoch_seconds
    row = {"model": task["model"], "variant": task["variant"], "batch_size": batch_size,
           "train_images_per_s": len(train_images) / statistics.median(steady),
           "first_epoch_seconds": epoch_seconds[0], "psnr": float(utils.psnr(test_images, restored).mean()),
           "flops": hardware.count_flops(model), "onednn": hardware.onednn_enabled(), "note": note}
    keras.mixed_precision.set_global_policy("float32")
    print(f"[speed: {task['model']}, {task['variant']}] {row['train_images_per_s']:,.0f} images/s, "
          f"PSNR {row['psnr']:.2f} dB", flush=True)
    return row


def _train_another_way(utils, hardware, model, train_images, variant, task, loss, batch_size):
    """train_denoiser's loop (same noise, order and optimizer), with batches fed another way or XLA."""
    import keras
    import numpy as np

    # train_denoiser's optimizer and schedule: over a single fit call for all epochs, or over the epochs.
    steps = task["epochs"] * math.ceil(len(train_images) / batch_size)
    model.compile(optimizer=keras.optimizers.Adam(utils.learning_rate_schedule(utils.PEAK_LEARNING_RATE, steps)),
                  loss=utils.keras_loss(loss), metrics=[utils.psnr_metric],
                  jit_compile=bool(variant.get("jit_compile")))
    feed, epochs, epoch_seconds, note = variant.get("feed"), task["epochs"], [], ""
    if feed == "single_fit":
        noisy = utils.add_noise(train_images, "gaussian", 0.5, seed=(SEED, 0))
        start = time.perf_counter()
        model.fit(noisy, train_images, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
        return [(time.perf_counter() - start) / epochs] * epochs, "one noisy copy for all epochs; time = total / epochs"
    for epoch in range(epochs):
        order = np.random.default_rng((SEED, epoch, 1)).permutation(len(train_images))  # as train_denoiser
        clean = train_images[order]
        if feed == "pydataset":
            inputs = {"x": _fresh_noise_batches_class()(utils, clean, epoch=epoch, batch_size=batch_size)}
        else:
            noisy = utils.add_noise(train_images, "gaussian", 0.5, seed=(SEED, epoch))[order]
            inputs = {"x": noisy, "y": clean, "batch_size": batch_size}
            if feed in ("tf.data", "autotune"):
                inputs = {"x": hardware.array_batches(noisy, clean, batch_size=batch_size, autotune=feed == "autotune")}
        start = time.perf_counter()
        model.fit(**inputs, shuffle=False, verbose=0)
        epoch_seconds.append(time.perf_counter() - start)
    return epoch_seconds, note


def _fresh_noise_batches_class():
    """A PyDataset class, defined once keras is imported in the worker."""
    import keras

    class Batches(keras.utils.PyDataset):
        """Draws fresh noise for every batch in Python, the way a keras.utils.PyDataset feeds fit."""

        def __init__(self, utils, images, *, epoch, batch_size):
            super().__init__()
            self.utils, self.images, self.epoch, self.batch_size = utils, images, epoch, batch_size

        def __len__(self):
            return math.ceil(len(self.images) / self.batch_size)

        def __getitem__(self, index):
            clean = self.images[index * self.batch_size:(index + 1) * self.batch_size]
            return self.utils.add_noise(clean, "gaussian", 0.5, seed=(SEED, self.epoch, index)), clean

    return Batches


# --------------------------------------------------------------------------
# Tables and the plot
# --------------------------------------------------------------------------


def _format(value, digits=0):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def write_results(rows, speed_rows, arguments, details, output_dir):
    import pandas as pd

    output_dir.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    table.to_csv(output_dir / "results.csv", index=False, quoting=csv.QUOTE_MINIMAL, float_format="%.6g")
    wide = {}
    for method, group in table.groupby("method", sort=False):
        first = group.iloc[0]
        label = method
        if "setting" in group and group["setting"].notna().all():
            label += " (" + " / ".join(f"{setting:g}" for setting in group["setting"]) + ")"  # tuned per level
        entry = {"method": label, "parameters": int(first["parameters"]), "flops": first["flops"],
                 "train_images_per_s": group["train_images_per_s"].median(),
                 "infer_images_per_s": group["infer_images_per_s"].median(),
                 "peak_memory_mb": group["peak_memory_mb"].max(), "wall_seconds": group["wall_seconds"].sum(),
                 "train_seconds": group["train_seconds"].sum()}
        for _, row in group.iterrows():
            for metric in ("mse", "psnr", "ssim"):
                entry[f"{metric}_{row['level']}"] = row[metric]
        wide[label] = entry
    baseline = wide.get(BASELINE)
    protocol = (
        f"Protocol: {arguments.train_size:,} training images, {arguments.test_size:,} test images, Gaussian noise at "
        f"{' and '.join(map(str, LEVELS))}, {arguments.epochs} epoch(s) per model and level, "
        f"batch size {arguments.batch_size or details['batch_size']}, seed {SEED}. Machine: {details['machine']}. Throughputs are medians (training: over epochs, whole fit "
        "call; denoising: over three passes); ×-ratios are against the keras.io baseline in this run."
    )
    lines = [
        protocol,
        "",
        ("| method | params | MFLOPs/image | train img/s | denoise img/s | peak MB | "
         + " | ".join(f"PSNR {level} | SSIM {level} | MSE {level}" for level in LEVELS) + " | wall s |"),
        "|---|---:|---:|---:|---:|---:|" + "---:|---:|---:|" * len(LEVELS) + "---:|",
    ]
    for entry in wide.values():
        def ratio(key, entry=entry):
            if baseline is None or entry[key] is None or pd.isna(entry[key]) or not baseline[key]:
                return ""
            return f" ({entry[key] / baseline[key]:.2f}×)"

        flops = None if entry["flops"] is None or pd.isna(entry["flops"]) else entry["flops"] / 1e6
        train_rate = None if pd.isna(entry["train_images_per_s"]) else entry["train_images_per_s"]
        infer_rate = None if pd.isna(entry["infer_images_per_s"]) else entry["infer_images_per_s"]
        memory = None if pd.isna(entry["peak_memory_mb"]) else entry["peak_memory_mb"]
        cells = [entry["method"], _format(entry["parameters"]), _format(flops, 1),
                 _format(train_rate) + (ratio("train_images_per_s") if train_rate else ""),
                 _format(infer_rate) + (ratio("infer_images_per_s") if infer_rate else ""), _format(memory)]
        for level in LEVELS:
            cells += [f"{entry[f'psnr_{level}']:.2f}", f"{entry[f'ssim_{level}']:.3f}", f"{entry[f'mse_{level}']:.4f}"]
        cells.append(_format(entry["wall_seconds"]))
        lines.append("| " + " | ".join(cells) + " |")
    speed_lines = []
    if speed_rows:
        speed = pd.DataFrame(speed_rows)
        speed.to_csv(output_dir / "training_speed.csv", index=False, float_format="%.6g")
        caption = (f"Training speed at Gaussian 0.5 ({arguments.speed_size:,} images × 2 epochs, batch size "
                   f"{arguments.batch_size or details['batch_size']} unless named; throughput of the second epoch, whole fit call; ×-ratio "
                   "against the tutorial's train_denoiser (oneDNN "
                   f"{'on' if details['onednn_by_default'] else 'off'} by default on this CPU); "
                   f"achieved GFLOP/s = 3 × forward FLOPs × images/s, against a peak of {details['peak']}).")
        header = ("| model | how it trains | oneDNN | img/s | × train_denoiser | GFLOP/s | % of peak | PSNR (dB) | "
                  "Δ PSNR | note |")
        speed_lines += [caption, "", header, "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
        for model, group in speed.groupby("model", sort=False):
            plain = group[group["variant"] == DEFAULT].iloc[0]
            for _, row in group.iterrows():
                gflops = 3 * row["flops"] * row["train_images_per_s"] / 1e9
                share = f"{100 * gflops / details['peak_gflops']:.0f}%" if details["peak_gflops"] else "—"
                speed_lines.append(
                    f"| {model} | {row['variant']} | {'on' if row['onednn'] else 'off'} | "
                    f"{row['train_images_per_s']:,.0f} | "
                    f"{row['train_images_per_s'] / plain['train_images_per_s']:.2f} | {gflops:.1f} | {share} | "
                    f"{row['psnr']:.2f} | {row['psnr'] - plain['psnr']:+.2f} | {row['note']} |")
    (output_dir / "results.md").write_text("\n".join([*lines, "", *speed_lines] if speed_lines else lines) + "\n")
    plot_frontier(wide, output_dir / "frontier.png", arguments)
    return lines, speed_lines


def plot_frontier(wide, path, arguments):
    """PSNR at the highest level against training seconds, one point per learned model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    level = LEVELS[-1]
    learned = [entry for entry in wide.values() if entry["parameters"] > 0]
    filters = [entry for entry in wide.values() if entry["parameters"] == 0 and entry["method"] != "noisy input"]
    figure, axes = plt.subplots(figsize=(6.5, 4.2))
    for entry in wide.values():
        if entry["method"] == "noisy input":
            axes.axhline(entry[f"psnr_{level}"], color="grey", linestyle=":", label="noisy input")
    if filters:
        best_filter = max(filters, key=lambda entry: entry[f"psnr_{level}"])
        axes.axhline(best_filter[f"psnr_{level}"], color="tab:orange", linestyle="--",
                     label=f"best classical filter: {best_filter['method'].split(' (')[0]} (no training)")
    points = sorted((entry["train_seconds"] / len(LEVELS), entry[f"psnr_{level}"], entry["method"]) for entry in learned)
    # The frontier: each model that beats every cheaper one.
    frontier, best = [], -float("inf")
    for seconds, psnr, _ in points:
        if psnr > best:
            frontier.append((seconds, psnr))
            best = psnr
    axes.plot(*zip(*frontier), color="tab:blue", alpha=0.4, label="frontier: best PSNR for the cost")
    for index, (seconds, psnr, name) in enumerate(points):
        axes.scatter(seconds, psnr, color="tab:blue", zorder=3)
        # Labels alternate between below-right and above-left, so that neighbours do not overlap.
        offset, align = ((6, -16), "left") if index % 2 == 0 else ((-6, 6), "right")
        axes.annotate(f"{name.split(' (')[0]}\n{psnr:.2f} dB, {seconds:.0f} s", (seconds, psnr), fontsize=8,
                      xytext=offset, textcoords="offset points", ha=align)
    axes.set_xlabel("training seconds on this CPU, per level")
    axes.set_ylabel(f"test PSNR at Gaussian {level} (dB)")
    axes.set_title(f"Quality against cost ({arguments.train_size:,} images × {arguments.epochs} epochs)")
    axes.set_xlim(0, max(seconds for seconds, _, _ in points) * 1.3)
    axes.set_ylim(top=max(psnr for _, psnr, _ in points) + 1.2)  # room for the labels above the points
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def relative_paths(result, folder):
    """``result`` with every path inside ``folder`` written relative to it: a committed results file names no
    machine's folders."""
    if isinstance(result, dict):
        return {key: relative_paths(value, folder) for key, value in result.items()}
    if isinstance(result, list):
        return [relative_paths(value, folder) for value in result]
    if isinstance(result, str) and result.startswith(str(folder) + os.sep):
        return str(Path(result).relative_to(folder))
    return result


def run_in_fresh_process(function, task):
    """Run function(task) in a new Python process and return its result (spawned: no state is shared)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, task).result()


def main(argv=None):
    arguments = parse_arguments(argv)
    run_start = time.perf_counter()
    mnist_path = arguments.mnist_path or os.environ.get("MNIST_PATH")
    sys.path.insert(0, str(ROOT))
    base = {"train_size": arguments.train_size, "test_size": arguments.test_size, "epochs": arguments.epochs,
            "batch_size": arguments.batch_size, "tuning_size": arguments.tuning_size, "mnist_path": mnist_path}
    print(f"Benchmark: {arguments.train_size:,} training and {arguments.test_size:,} test images, "
          f"levels {LEVELS}, {arguments.epochs} epoch(s); results go to {arguments.output_dir.name}/", flush=True)
    details = machine_details()
    # Without an explicit file, the first worker leaves a copy of its data here for the others.
    scratch = tempfile.TemporaryDirectory(prefix="denoising-benchmark-")
    base["data_copy"] = None if mnist_path else str(Path(scratch.name) / "mnist.npz")
    rows = []
    for index, name in enumerate(arguments.models):
        rows += run_in_fresh_process(train_and_evaluate, {**base, "model": name, "announce": index == 0})
    if not arguments.no_classical:
        rows += run_in_fresh_process(classical_filters, base)
    speed_rows = []
    if not arguments.no_speed:
        # --quick compares only the plain and the default way, on the autoencoder.
        speed_models = ("autoencoder",) if arguments.quick else ("autoencoder", "U-Net")
        speed_variants = (DEFAULT, "oneDNN off (TF_ENABLE_ONEDNN_OPTS=0)") if arguments.quick else tuple(SPEED_VARIANTS)
        if details["backend"] != "tensorflow":
            speed_variants = tuple(variant for variant in speed_variants if variant not in TENSORFLOW_ONLY)
            print(f"[speed] skipping {', '.join(map(repr, TENSORFLOW_ONLY))}: TensorFlow's own (this run uses "
                  f"Keras's {details['backend']} backend)", flush=True)
        if not (details["bfloat16"] or arguments.emulated_bfloat16):
            # Emulated bfloat16 is 8x slower here (README, "Training speed"): 10 minutes to learn nothing new.
            speed_variants = tuple(variant for variant in speed_variants if variant != BFLOAT16)
            print(f"[speed] skipping {BFLOAT16!r}: this CPU has no bfloat16 instructions "
                  "(--emulated-bfloat16 times it anyway)", flush=True)
        for model in speed_models:
            for variant in speed_variants:
                speed_rows.append(run_in_fresh_process(
                    training_speed, {**base, "train_size": arguments.speed_size, "epochs": 2, "model": model,
                                     "variant": variant}))
    scratch.cleanup()
    lines, speed_lines = write_results(rows, speed_rows, arguments, details, arguments.output_dir)
    wall = time.perf_counter() - run_start
    report = {"results": lines, **({"speed": speed_lines} if speed_lines else {})}  # benchmarks/tables.py shows it
    (arguments.output_dir / "run.json").write_text(json.dumps(
        {"arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(arguments).items() if k != "mnist_path"},
         "machine": details, "wall_seconds": wall, "report": report}, indent=1, ensure_ascii=False))
    print("\n" + "\n".join([*lines, "", *speed_lines]))
    written = sorted(path.name for path in arguments.output_dir.iterdir())
    print(f"\nWrote {', '.join(written)} to {arguments.output_dir.name}/ in {wall / 60:.1f} min.")


def machine_details():
    utils, hardware = _start_worker()
    import keras

    backend = keras.backend.backend()
    name = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}.get(backend, backend)
    framework = f"{name} {importlib.import_module(backend).__version__}, Keras {keras.__version__}"
    if backend == "tensorflow":
        framework += f", oneDNN {'on' if hardware.onednn_enabled() else 'off'}"
    peak, how = hardware.cpu_peak_gflops()
    return {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, {framework}",
            "backend": backend,
            "peak_gflops": peak, "peak": f"{peak:.0f} GFLOP/s ({how})" if peak else how,
            "bfloat16": hardware.bfloat16_supported(), "onednn": hardware.onednn_enabled(),
            "batch_size": utils.BATCH_SIZE,
            "onednn_by_default": hardware.onednn_on_by_default()}


if __name__ == "__main__":
    main()
