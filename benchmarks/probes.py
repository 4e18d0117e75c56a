"""Measurements behind the tutorial's choices, made on validation images; the test set is scored only for what
was chosen.

    python benchmarks/probes.py sweep         # learning-rate schedules and batch sizes: which recipe?
    python benchmarks/probes.py budget        # the autoencoder and the U-Net with more training images
    python benchmarks/probes.py spread        # the notebook's comparisons over 5 seeds: the run-to-run spread
    python benchmarks/probes.py convergence   # the U-Net trained to convergence: test PSNR after every epoch
    python benchmarks/probes.py steps         # seconds per epoch with 1 and with 8 steps per call into the backend
    python benchmarks/probes.py batch         # seconds per epoch with batches of 16 (the notebook's) and of 8
    python benchmarks/probes.py linear-probe  # the notebook's linear probe: its regularisation, chosen on validation

Everything trains at Gaussian noise 0.5 with ``utils.train_denoiser``. ``sweep`` and ``budget`` train on the
first training images and score a validation split: the last 5,000 training images, which nothing trains on.
``sweep`` picks its recipe on them in two stages (every recipe with seed 42; the four best again with seeds 43
and 44) and only then scores the test set, for the recipe it picked. ``spread`` repeats the notebook's own
default run (its images, budget and noise, everything drawn from the seed) for several seeds, and reports the
test PSNR of each network and experiment model as mean and standard deviation: the spread that tells a tie
from a lead. ``convergence`` chooses nothing: it trains for a fixed 30 epochs and scores the test set after
each. ``steps`` and ``batch`` time each network's epochs with each setting (1 or 8 training steps per call, Keras's
``steps_per_execution``; batches of 16 or 8), on the notebook's 6,000 training images, three times each, interleaved
so that a slow minute of a shared machine slows every setting alike; the first epoch, which also builds the training
step, is reported apart. ``linear-probe`` trains the
notebook's autoencoder as its default run does and chooses, for each representation that the notebook probes, the
regularisation of its logistic regression on the notebook's validation images; then it scores the test images once,
with the strengths it chose. Each training runs in a fresh process. Results are printed as tables and written as JSON to
``benchmarks/results/`` (git ignores it); ``benchmarks/README.md`` explains what they showed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import run as benchmark

MODELS = {"autoencoder": "build_autoencoder", "U-Net": "build_unet"}
VALIDATION_SIZE = 5_000  # the last training images: the probes' validation split
FINALISTS = 4  # recipes that the sweep's second stage trains with more seeds
FINAL_SEEDS = (43, 44)
SPREAD_SEEDS = (42, 43, 44, 45, 46)
# What 'steps', 'batch' and 'backends' time; the others are compared with the first setting of each. 'backends'
# needs JAX and PyTorch installed beside TensorFlow (requirements-jax.txt, requirements-torch.txt).
SPEED_SETTINGS = {"steps": {"8 steps per call": {"steps": 8}, "1 step per call": {"steps": 1}},
                  "batch": {"batch 16": {"batch_size": 16}, "batch 8": {"batch_size": 8}},
                  "backends": {"TensorFlow": {"backend": "tensorflow"}, "JAX": {"backend": "jax"},
                               "PyTorch": {"backend": "torch"}}}
# The notebook's default run, as its parameters cell sets it.
NOTEBOOK = {"train_size": 6_000, "validation_size": 1_000, "test_size": 5_000, "epochs": 4, "level": 0.5,
            "experiment_train_size": 3_000, "experiment_epochs": 2, "robustness_test_size": 1_000,
            "blind_levels": (0.1, 0.7), "kind_levels": {"gaussian": 0.5, "salt_and_pepper": 0.2, "speckle": 1.0,
                                                        "poisson": 1.0}}
# The experiment models of the notebook's part 2, and how each trains; each is scored on Gaussian noise at 0.1, and
# on each kind of noise at its level, as the notebook scores them.
EXPERIMENTS = {
    "gaussian 0.5": {"noise_kind": "gaussian", "noise_level": 0.5},
    "blind gaussian 0.1-0.7": {"noise_kind": "gaussian", "noise_level": (0.1, 0.7)},
    "salt_and_pepper 0.2": {"noise_kind": "salt_and_pepper", "noise_level": 0.2},
    "speckle 1.0": {"noise_kind": "speckle", "noise_level": 1.0},
    "poisson 1.0": {"noise_kind": "poisson", "noise_level": 1.0},
    "mixture of all four": {"noise_kind": ("gaussian", "salt_and_pepper", "speckle", "poisson"),
                            "noise_level": (0.5, 0.2, 1.0, 1.0)},
    "Noise2Noise, clipped targets": {"noise_kind": "gaussian", "noise_level": 0.5, "targets": "noisy"},
    "Noise2Noise, unclipped targets": {"noise_kind": "gaussian", "noise_level": 0.5, "targets": "noisy",
                                       "clip_noisy_targets": False},
}
TUNING_SIZE = 200  # the notebook's validation images that tune the classical filters

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
    # The first sweep's winner sat at the edge of its grid (batch 16, the smallest size; peak 4e-3, the largest at
    # batch 16): these extend it past both edges.
    "warm-up 10% + cosine, peak 8e-3, batch 16": {"batch_size": 16, "schedule": "warmup-cosine", "peak": 8e-3},
    "warm-up 10% + cosine, peak 2e-3, batch 8": {"batch_size": 8, "schedule": "warmup-cosine", "peak": 2e-3},
    "warm-up 10% + cosine, peak 4e-3, batch 8": {"batch_size": 8, "schedule": "warmup-cosine", "peak": 4e-3},
}


# What train_denoiser does by default (its batch size and learning rate), left to utils.
TUTORIAL_RECIPE = {"batch_size": None, "schedule": "the tutorial's"}
TUTORIAL_LABEL = "warm-up 10% + cosine, peak 4e-3, batch 16"  # the sweep's name for it


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
    parser.add_argument("probe", choices=("sweep", "budget", "spread", "convergence", *SPEED_SETTINGS,
                                          "linear-probe"),
                        help="which measurement to run")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS), metavar="MODEL",
                        help="models for 'sweep' and 'budget' (default: autoencoder U-Net)")
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), metavar="RECIPE",
                        help="recipes for 'sweep' (default: all)")
    parser.add_argument("--finalists", type=int, default=FINALISTS,
                        help=f"recipes that the sweep trains again with seeds {FINAL_SEEDS} (default: {FINALISTS})")
    parser.add_argument("--epochs", type=int, nargs="+",
                        help="epochs: 4 for 'sweep', 'budget' and 'spread' (the notebook's), 30 for 'convergence'")
    parser.add_argument("--seeds", type=int, nargs="+",
                        help="seeds for 'spread' (default: 42 to 46) and 'budget' (default: 42 43 44)")
    parser.add_argument("--train-size", type=int,
                        help="training images (default: the notebook's 6,000 for 'sweep' and 'spread', 40,000 for "
                             "'budget', all 60,000 for 'convergence')")
    parser.add_argument("--validation-size", type=int, default=VALIDATION_SIZE,
                        help=f"the last training images, held out to choose on (default: {VALIDATION_SIZE:,})")
    parser.add_argument("--test-size", type=int,
                        help="test images scored (default: the notebook's 5,000 for 'spread' and 'convergence', "
                             "else all 10,000)")
    parser.add_argument("--mnist-path", help="path to mnist.npz (default: the MNIST_PATH variable, then Keras)")
    parser.add_argument("--output-dir", type=Path, default=benchmark.RESULTS_DIR, help="where to write the results")
    parser.add_argument("--results-name", metavar="NAME.json",
                        help="the results file to write in --output-dir (default: probe_<probe>.json)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="'steps' and 'batch': trainings of each network with each setting (default: 3)")
    parser.add_argument("--from-json", type=Path, metavar="JSON",
                        help="'spread' only: summarize the runs of an earlier result file instead of training")
    arguments = parser.parse_args(argv)
    probe = arguments.probe
    if arguments.from_json and probe != "spread":
        parser.error("--from-json works with 'spread' only")
    arguments.epochs = arguments.epochs or ([30] if probe == "convergence" else [3] if probe in SPEED_SETTINGS
                                            else [NOTEBOOK["epochs"]])
    arguments.seeds = arguments.seeds or list(SPREAD_SEEDS if probe == "spread" else (42, 43, 44))
    arguments.train_size = arguments.train_size or {"budget": 40_000, "convergence": 60_000}.get(
        probe, NOTEBOOK["train_size"])
    arguments.test_size = arguments.test_size or (NOTEBOOK["test_size"] if probe in ("spread", "convergence",
                                                                                  *SPEED_SETTINGS) else 10_000)
    arguments.recipes = arguments.recipes or list(RECIPES)
    if min(arguments.epochs) < 1 or min(arguments.train_size, arguments.test_size, arguments.validation_size) < 1:
        parser.error("--epochs, --train-size, --validation-size and --test-size must be at least 1")
    if len(arguments.epochs) != 1:
        parser.error("--epochs takes one number of epochs")
    if arguments.finalists < 1 or arguments.repeats < 1:
        parser.error("--finalists and --repeats must be at least 1")
    if probe in SPEED_SETTINGS and (arguments.repeats < 2 or arguments.epochs[0] < 2):
        parser.error(f"'{probe}' needs at least 2 repeats and 2 epochs: a timing without its spread compares "
                     "nothing, and the first epoch also builds the training step")
    if probe == "spread" and len(set(arguments.seeds)) < 2:
        parser.error("'spread' needs at least two different seeds")
    return arguments


# --------------------------------------------------------------------------
# Work done in a fresh process for each training
# --------------------------------------------------------------------------


def _splits(utils, task, *, test=False):
    """The training images (the first ones), the validation split (the last ones) and, if asked, the test images."""
    (train_images, _), (test_images, _) = utils.load_mnist(task["mnist_path"], verbose=task.get("announce", False))
    held_out = min(task["validation_size"], len(train_images) // 10)  # a tenth of the offline fallback's 5,000
    if task["train_size"] > len(train_images) - held_out or (test and task["test_size"] > len(test_images)):
        raise ValueError(f"this data set has {len(train_images) - held_out:,} training images besides its "
                         f"{held_out:,} validation images, and {len(test_images):,} test images")
    return train_images[:task["train_size"]], train_images[-held_out:], test_images[:task["test_size"]] if test else None


def _train(utils, model_name, recipe, images, epochs, seed, **options):
    """Build a model from the seed and train it with a recipe; return it and its training seconds."""
    import keras

    batch_size = recipe["batch_size"] or utils.BATCH_SIZE
    if recipe != TUTORIAL_RECIPE:  # the tutorial's own recipe is train_denoiser's defaults, untouched
        options["learning_rate"] = schedule(recipe, epochs * math.ceil(len(images) / batch_size))
    keras.utils.set_random_seed(seed)
    model = getattr(utils, MODELS[model_name])()
    start = time.perf_counter()
    utils.train_denoiser(model, images, epochs=epochs, seed=seed, batch_size=batch_size, verbose=0, **options)
    return model, time.perf_counter() - start


def train_and_validate(task):
    """Train one model with one recipe and seed; score it on the validation split only, and save it."""
    utils, _ = benchmark._start_worker()
    train_images, validation_images, _ = _splits(utils, task)
    model, seconds = _train(utils, task["model"], task["recipe"], train_images, task["epochs"], task["seed"])
    noisy = benchmark._noisy(utils, validation_images, 0.5, 2)
    psnr = float(utils.psnr(validation_images, model.predict(noisy, batch_size=500, verbose=0)).mean())
    if task.get("model_path"):
        Path(task["model_path"]).parent.mkdir(parents=True, exist_ok=True)
        model.save(task["model_path"])
    print(f"[{task['model']}, {task['label']}, seed {task['seed']}] validation PSNR {psnr:.2f} dB, "
          f"{seconds:.0f} s", flush=True)
    return {"model": task["model"], "label": task["label"], "seed": task["seed"], "epochs": task["epochs"],
            "validation_psnr": psnr, "training_seconds": seconds, "train_images": len(train_images),
            "validation_images": len(validation_images), "model_path": task.get("model_path")}


def score_on_test(task):
    """The test PSNR of saved models: run once, after the choice is made."""
    utils, _ = benchmark._start_worker()
    _, _, test_images = _splits(utils, task, test=True)
    noisy = benchmark._noisy(utils, test_images, 0.5, 1)
    return [float(utils.psnr(test_images, utils.load_denoiser(path).predict(noisy, batch_size=500, verbose=0)).mean())
            for path in task["model_paths"]]


def notebook_run(task):
    """The notebook's default run with another seed: the noisy input, its four networks, the median filter tuned on
    its validation images, and its experiment models, trained and scored as the notebook does, with the seed in
    every place where the notebook uses SEED."""
    utils, _ = benchmark._start_worker()
    import keras

    seed = task["seed"]
    (train_val_images, _), (test_images, _) = utils.load_mnist(task["mnist_path"], verbose=task.get("announce"))
    validation_size = min(NOTEBOOK["validation_size"], len(train_val_images) // 10)
    train_images = train_val_images[:-validation_size][:task["train_size"]]
    tuning_images = train_val_images[-validation_size:][:TUNING_SIZE]
    test_images = test_images[:task["test_size"]]
    noisy_test = utils.add_noise(test_images, "gaussian", NOTEBOOK["level"], seed=seed + 1)
    size, _ = utils.tune_classical_filter("median", tuning_images, utils.add_noise(
        tuning_images, "gaussian", NOTEBOOK["level"], seed=seed + 2))
    scores = {"noisy input": utils.psnr(test_images, noisy_test),
              "median filter": utils.psnr(test_images, utils.classical_denoise(noisy_test, "median", size))}
    for name, (builder, loss) in benchmark.MODELS.items():
        keras.utils.set_random_seed(seed)
        model = getattr(utils, builder)()
        utils.train_denoiser(model, train_images, epochs=task["epochs"], seed=seed, loss=loss, verbose=0)
        scores[name] = utils.psnr(test_images, model.predict(noisy_test, batch_size=500, verbose=0))
    result = {"seed": seed, "networks": {name: float(values.mean()) for name, values in scores.items()},
              "experiments": {}}
    # Part 2's experiments: U-Nets on fewer images and epochs, scored on fewer test images, as the notebook does.
    experiment_images = train_images[:NOTEBOOK["experiment_train_size"]]
    robustness_images = test_images[:NOTEBOOK["robustness_test_size"]]
    # Light Gaussian noise, as the robustness curve draws it, then each kind at its level, as the cross matrix does.
    tests = {"gaussian 0.1": utils.add_noise(robustness_images, "gaussian", 0.1, seed=seed + 3)}
    tests.update({f"{kind} {level}": utils.add_noise(robustness_images, kind, level, seed=seed + 4)
                  for kind, level in NOTEBOOK["kind_levels"].items()})
    result["experiments"]["noisy input"] = {test: float(utils.psnr(robustness_images, noisy).mean())
                                            for test, noisy in tests.items()}
    for name, options in EXPERIMENTS.items():
        keras.utils.set_random_seed(seed)
        model = utils.build_unet()
        utils.train_denoiser(model, experiment_images, epochs=min(NOTEBOOK["experiment_epochs"], task["epochs"]),
                             seed=seed, verbose=0, **options)
        result["experiments"][name] = {test: float(utils.psnr(robustness_images, model.predict(
            noisy, batch_size=500, verbose=0)).mean()) for test, noisy in tests.items()}
    print(f"[seed {seed}] " + ", ".join(f"{name} {psnr:.2f}" for name, psnr in result["networks"].items()), flush=True)
    return result


def converge(task):
    """Train the U-Net with the tutorial's recipe for many epochs; the test PSNR after every epoch."""
    utils, _ = benchmark._start_worker()
    import keras

    (train_images, _), (test_images, _) = utils.load_mnist(task["mnist_path"], verbose=task.get("announce", False))
    train_images, test_images = train_images[:task["train_size"]], test_images[:task["test_size"]]
    # The notebook's noisy test images: its first test images, noised from its seed + 1, so the two compare.
    noisy_test = utils.add_noise(test_images, "gaussian", NOTEBOOK["level"], seed=task["seed"] + 1)
    keras.utils.set_random_seed(task["seed"])
    model = utils.build_unet()
    start = time.perf_counter()
    history = utils.train_denoiser(model, train_images, epochs=task["epochs"], seed=task["seed"],
                                   validation_data=(noisy_test, test_images), verbose=1)
    seconds = time.perf_counter() - start
    psnr = float(utils.psnr(test_images, model.predict(noisy_test, batch_size=500, verbose=0)).mean())
    return {"model": "U-Net", "epochs": task["epochs"], "psnr": psnr, "training_seconds": seconds,
            "test_psnr_per_epoch": history.history["val_psnr"], "train_images": len(train_images)}


PROBE_STRENGTHS = (0.0005, 0.002, 0.01, 0.05, 0.2)  # C of scikit-learn's LogisticRegression: 1 / regularisation
PROBE_SIZE = 3_000  # the notebook's training digits for the probe


def linear_probe(task):
    """The notebook's autoencoder and its linear probe: for each representation, the probe's validation accuracy at
    every strength of the grid, the strength it chooses, and then that strength's test accuracy."""
    utils, _ = benchmark._start_worker()
    import keras
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    seed, level = task["seed"], NOTEBOOK["level"]
    (train_val_images, train_val_labels), (test_images, test_labels) = utils.load_mnist(task["mnist_path"],
                                                                                        verbose=False)
    validation_size = NOTEBOOK["validation_size"]
    train_images = train_val_images[:-validation_size][:NOTEBOOK["train_size"]]
    train_labels = train_val_labels[:-validation_size][:NOTEBOOK["train_size"]]
    validation_images, validation_labels = train_val_images[-validation_size:], train_val_labels[-validation_size:]
    test_images, test_labels = test_images[:NOTEBOOK["test_size"]], test_labels[:NOTEBOOK["test_size"]]
    keras.utils.set_random_seed(seed)
    autoencoder = utils.build_autoencoder()
    utils.train_denoiser(autoencoder, train_images, epochs=NOTEBOOK["epochs"], seed=seed, verbose=0)
    encoder = keras.Model(autoencoder.input, autoencoder.get_layer("bottleneck_2").output)
    # Noise as the notebook draws it: the probe's training digits from seed + 5, validation seed + 2, test seed + 1.
    noisy = {part: utils.add_noise(images, "gaussian", level, seed=seed + offset) for part, images, offset in
             [("train", train_images[:PROBE_SIZE], 5), ("validation", validation_images, 2), ("test", test_images, 1)]}
    clean = {"train": train_images[:PROBE_SIZE], "validation": validation_images, "test": test_images}
    inputs = {"clean pixels": clean, "noisy pixels": noisy,
              "bottleneck of the noisy digits": {part: encoder.predict(images, verbose=0)
                                                 for part, images in noisy.items()}}
    labels = {"train": train_labels[:PROBE_SIZE], "validation": validation_labels, "test": test_labels}
    rows = {}
    for name, parts in inputs.items():
        flat = {part: features.reshape(len(features), -1) for part, features in parts.items()}
        fitted = {strength: make_pipeline(StandardScaler(), LogisticRegression(C=strength, max_iter=300)).fit(
            flat["train"], labels["train"]) for strength in PROBE_STRENGTHS}
        validation = [float(fitted[strength].score(flat["validation"], labels["validation"]))
                      for strength in PROBE_STRENGTHS]
        chosen = PROBE_STRENGTHS[validation.index(max(validation))]
        rows[name] = {"validation_accuracy": validation, "chosen": chosen,
                      "test_accuracy": float(fitted[chosen].score(flat["test"], labels["test"]))}
        print(f"[{name}] C {chosen}: validation {max(validation):.3f}, test {rows[name]['test_accuracy']:.3f}",
              flush=True)
    return {"seed": seed, "rows": rows}


def time_training(task):
    """One network trained with one setting (steps per call, batch size, Keras backend): the seconds of each of its
    epochs, and its test PSNR on the notebook's noisy test images."""
    if "backend" in task["setting"]:
        os.environ["KERAS_BACKEND"] = task["setting"]["backend"]  # before Keras starts, in this fresh process
    utils, _ = benchmark._start_worker()
    import keras

    if keras.backend.backend() != task["setting"].get("backend", keras.backend.backend()):
        raise RuntimeError(f"Keras runs on {keras.backend.backend()} in this process, not {task['setting']['backend']}:"
                           " a backend is chosen once, before Keras starts, so time each in a fresh process")
    utils.STEPS_PER_EXECUTION = task["setting"].get("steps", utils.STEPS_PER_EXECUTION)  # train_denoiser's
    train_images, _, test_images = _splits(utils, task, test=True)
    builder, loss = benchmark.MODELS[task["model"]]
    keras.utils.set_random_seed(benchmark.SEED)
    model = getattr(utils, builder)()
    history = utils.train_denoiser(model, train_images, epochs=task["epochs"], seed=benchmark.SEED, loss=loss,
                                   batch_size=task["setting"].get("batch_size", utils.BATCH_SIZE), verbose=0)
    seconds = history.history["epoch_seconds"]
    noisy = utils.add_noise(test_images, "gaussian", NOTEBOOK["level"], seed=benchmark.SEED + 1)  # the notebook's
    psnr = float(utils.psnr(test_images, model.predict(noisy, batch_size=500, verbose=0)).mean())
    print(f"[{task['model']}, {task['label']}, repeat {task['repeat']}] seconds per epoch: "
          + ", ".join(f"{value:.1f}" for value in seconds) + f"; test PSNR {psnr:.2f} dB", flush=True)
    return {"model": task["model"], "label": task["label"], "repeat": task["repeat"], "epoch_seconds": seconds,
            "psnr": psnr, "backend": keras.backend.backend()}


# --------------------------------------------------------------------------
# The probes
# --------------------------------------------------------------------------


def _mean_sd(values):
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _slug(text):
    return "".join(character if character.isalnum() else "_" for character in text).strip("_")


def sweep(arguments, base):
    """Stage 1: every recipe, seed 42. Stage 2: the best few by mean validation PSNR, with more seeds. Pick the
    best mean over every seed and model; then, and only then, score its models on the test set."""
    folder = arguments.output_dir / "sweep_models"

    def tasks(labels, seeds):
        return [{**base, "model": model, "label": label, "recipe": RECIPES[label], "seed": seed,
                 "epochs": arguments.epochs[0], "model_path": str(folder / f"{_slug(label)}_{model}_{seed}.keras")}
                for label in labels for seed in seeds for model in arguments.models]

    first = [benchmark.run_in_fresh_process(train_and_validate, task) for task in tasks(arguments.recipes, [42])]

    def mean_of(rows, label):
        return statistics.mean(row["validation_psnr"] for row in rows if row["label"] == label)

    finalists = sorted(arguments.recipes, key=lambda label: -mean_of(first, label))[:arguments.finalists]
    second = [benchmark.run_in_fresh_process(train_and_validate, task) for task in tasks(finalists, FINAL_SEEDS)]
    final_rows = [row for row in first + second if row["label"] in finalists]
    chosen = max(finalists, key=lambda label: mean_of(final_rows, label))
    chosen_rows = [row for row in final_rows if row["label"] == chosen]
    test_psnr = benchmark.run_in_fresh_process(score_on_test, {**base, "model_paths": [
        row["model_path"] for row in chosen_rows]})
    for row, psnr in zip(chosen_rows, test_psnr, strict=True):
        row["test_psnr"] = psnr
    return {"stage_1": first, "stage_2": second, "finalists": finalists, "chosen": chosen,
            "tutorial_recipe": TUTORIAL_LABEL}


def budget(arguments, base):
    """The tutorial's recipe on more training images, for several seeds: does the ranking of the two models hold?"""
    tasks = [{**base, "model": model, "label": "tutorial's recipe", "recipe": TUTORIAL_RECIPE, "seed": seed,
              "epochs": arguments.epochs[0]} for seed in arguments.seeds for model in arguments.models]
    return {"rows": [benchmark.run_in_fresh_process(train_and_validate, task) for task in tasks]}


def speed(arguments, base):
    """Each network with each setting, ``--repeats`` times, each in a fresh process; the settings interleaved."""
    settings = SPEED_SETTINGS[arguments.probe]
    return {"settings": settings, "repeats": arguments.repeats, "epochs": arguments.epochs[0], "rows": [
        benchmark.run_in_fresh_process(time_training, {**base, "model": model, "label": label, "setting": setting,
                                                       "repeat": repeat, "epochs": arguments.epochs[0]})
        for repeat in range(1, arguments.repeats + 1) for model in benchmark.MODELS
        for label, setting in settings.items()]}


def spread(arguments, base):
    """The notebook's default run for each seed; the mean and standard deviation of every score over them."""
    runs = [benchmark.run_in_fresh_process(notebook_run, {**base, "seed": seed, "epochs": arguments.epochs[0]})
            for seed in arguments.seeds]
    return summarize_spread(runs)


# The notebook's names for the rows of the spread.
NOTEBOOK_NAMES = {"autoencoder": "our autoencoder", "median filter": "best classical filter"}


def summarize_spread(runs):
    """The mean and standard deviation of every score over the seeds, under the notebook's names."""
    runs = [{**run, "networks": {NOTEBOOK_NAMES.get(name, name): psnr for name, psnr in run["networks"].items()}}
            for run in runs]
    return {"runs": runs, "summary": {
        "networks": {name: _mean_sd([run["networks"][name] for run in runs]) for name in runs[0]["networks"]},
        "experiments": {name: {test: _mean_sd([run["experiments"][name][test] for run in runs]) for test in tests}
                        for name, tests in runs[0]["experiments"].items()}}}


def main(argv=None):
    arguments = parse_arguments(argv)
    base = {"mnist_path": arguments.mnist_path or os.environ.get("MNIST_PATH"), "train_size": arguments.train_size,
            "test_size": arguments.test_size, "validation_size": arguments.validation_size, "announce": True}
    start = time.perf_counter()
    if arguments.probe == "convergence":
        result = {"rows": [benchmark.run_in_fresh_process(converge, {**base, "seed": benchmark.SEED,
                                                                     "epochs": arguments.epochs[0]})]}
    elif arguments.from_json:
        earlier = json.loads(arguments.from_json.read_text())
        result = summarize_spread(earlier["runs"])
        start -= earlier["wall_seconds"]  # the minutes of the run that trained them
    else:
        result = {"sweep": sweep, "budget": budget, "spread": spread, **dict.fromkeys(SPEED_SETTINGS, speed),
                  "linear-probe": lambda arguments, base: benchmark.run_in_fresh_process(
                      linear_probe, {**base, "seed": benchmark.SEED})}[arguments.probe](arguments, base)
    result.update(probe=arguments.probe, train_images=arguments.train_size, test_images=arguments.test_size,
                  wall_seconds=time.perf_counter() - start)
    arguments.output_dir.mkdir(parents=True, exist_ok=True)
    path = arguments.output_dir / (arguments.results_name or f"probe_{arguments.probe}.json")
    lines = table(arguments.probe, result)
    result["report"] = {"main": lines}  # benchmarks/tables.py shows it in benchmarks/README.md
    path.write_text(json.dumps(benchmark.relative_paths(result, arguments.output_dir.resolve()), indent=1,
                               ensure_ascii=False))
    if arguments.probe == "convergence":
        plot_convergence(result["rows"][0], arguments.output_dir / "convergence.png")
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


def _pm(values, digits=2):
    mean, sd = _mean_sd(values)
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def speed_table(result):
    """Seconds per epoch of each network with each setting: the first epoch apart, the later ones averaged per
    training; mean ± sd over the repeats, and the ratio to the notebook's setting, paired by repeat."""
    reference = next(iter(result["settings"]))
    caption = (f"Seconds per epoch on {result['train_images']:,} images, {result['epochs']} epochs per training; "
               f"mean ± sd over {result['repeats']} trainings of each in fresh processes, interleaved. \"later "
               "epochs\": the mean of each training's epochs after the first, which also builds the training step. "
               f"The ratio is to {reference}, repeat by repeat.")
    lines = [caption, "", ("| network | setting | first epoch (s) | later epochs (s) | ratio of later epochs | "
                          "test PSNR (dB) |"), "|---|---|---:|---:|---:|---:|"]
    rows = result["rows"]
    for model in dict.fromkeys(row["model"] for row in rows):
        def later(label, model=model):
            return {row["repeat"]: statistics.mean(row["epoch_seconds"][1:]) for row in rows
                    if row["model"] == model and row["label"] == label}
        for label in result["settings"]:
            first = [row["epoch_seconds"][0] for row in rows if row["model"] == model and row["label"] == label]
            ratios = [later(label)[repeat] / later(reference)[repeat] for repeat in later(label)]
            psnr = [row["psnr"] for row in rows if row["model"] == model and row["label"] == label]
            lines.append(f"| {model} | {label} | {_pm(first, 1)} | {_pm(list(later(label).values()), 1)} | "
                         f"{_pm(ratios, 2)} | {_pm(psnr)} |")
    return lines


def table(probe, result):
    """Markdown tables of a probe's result, as benchmarks/README.md quotes them."""
    if probe == "linear-probe":
        rows = result["rows"]
        caption = ("Validation accuracy of the linear probe at each strength C (scikit-learn's LogisticRegression, on "
                   "standardised features), the C chosen on it, and the test accuracy of the chosen C, scored once")
        lines = [caption, "", "| features | " + " | ".join(f"C {strength}" for strength in PROBE_STRENGTHS)
                 + " | chosen C | test accuracy |", "|---|" + "---:|" * (len(PROBE_STRENGTHS) + 2)]
        for name, row in rows.items():
            lines.append(f"| {name} | " + " | ".join(f"{accuracy:.1%}" for accuracy in row["validation_accuracy"])
                         + f" | {row['chosen']} | {row['test_accuracy']:.1%} |")
        return lines
    if probe in SPEED_SETTINGS:
        return speed_table(result)
    if probe == "convergence":
        (row,) = result["rows"]
        lines = ["| epoch | test PSNR (dB) |", "|---:|---:|"]
        lines += [f"| {epoch} | {psnr:.2f} |" for epoch, psnr in enumerate(row["test_psnr_per_epoch"], start=1)]
        return [*lines, (f"\n{row['epochs']} epochs on {row['train_images']:,} images: {row['psnr']:.2f} dB, "
                        f"{row['training_seconds'] / 60:.1f} min of training.")]
    if probe == "spread":
        runs, summary = result["runs"], result["summary"]
        seeds = " | ".join(f"seed {run['seed']}" for run in runs)
        lines = [f"| model | test PSNR (dB), mean ± sd | {seeds} |", "|---|---:|" + "---:|" * len(runs)]
        for name in summary["networks"]:
            values = [run["networks"][name] for run in runs]
            lines.append(f"| {name} | {_pm(values)} | " + " | ".join(f"{value:.2f}" for value in values) + " |")
        tests = list(runs[0]["experiments"]["noisy input"])
        lines += ["", ("Part 2's experiment models (U-Nets, 2 epochs on 3,000 images), test PSNR (dB), mean ± sd, on "
                       "1,000 test images, by the noise they are tested on:"), "",
                  "| model | " + " | ".join(tests) + " |", "|---|" + "---:|" * len(tests)]
        for name, by_test in summary["experiments"].items():
            lines.append(f"| {name} | " + " | ".join(f"{by_test[test][0]:.2f} ± {by_test[test][1]:.2f}"
                                                        for test in tests) + " |")
        return lines
    if probe == "budget":
        rows = result["rows"]
        models = list(dict.fromkeys(row["model"] for row in rows))
        lines = ["| model | validation PSNR (dB), mean ± sd | " + " | ".join(
            f"seed {seed}" for seed in dict.fromkeys(row["seed"] for row in rows)) + " |",
                 "|---|---:|" + "---:|" * len({row["seed"] for row in rows})]
        for model in models:
            values = [row["validation_psnr"] for row in rows if row["model"] == model]
            lines.append(f"| {model} | {_pm(values)} | " + " | ".join(f"{value:.2f}" for value in values) + " |")
        return lines
    models = list(dict.fromkeys(row["model"] for row in result["stage_1"]))
    lines = ["Stage 1, seed 42: validation PSNR (dB) and training seconds", "",
             "| recipe | " + " | ".join(f"{model} PSNR (dB) | {model} s" for model in models) + " | mean PSNR (dB) |",
             "|---|" + "---:|---:|" * len(models) + "---:|"]
    for label in dict.fromkeys(row["label"] for row in result["stage_1"]):
        line = [row for row in result["stage_1"] if row["label"] == label]
        cells = [f"{row['validation_psnr']:.2f} | {row['training_seconds']:.0f}" for row in line]
        mean = statistics.mean(row["validation_psnr"] for row in line)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {mean:.2f} |")
    rows = result["stage_1"] + result["stage_2"]
    lines += ["", (f"Stage 2, the {len(result['finalists'])} best with seeds 42, "
                  f"{', '.join(map(str, FINAL_SEEDS))}: validation PSNR (dB), mean ± sd over seeds"), "",
              "| recipe | " + " | ".join(models) + " | mean of the models |", "|---|" + "---:|" * (len(models) + 1)]
    for label in result["finalists"]:
        cells = [_pm([row["validation_psnr"] for row in rows if row["label"] == label and row["model"] == model])
                 for model in models]
        mean = statistics.mean(row["validation_psnr"] for row in rows if row["label"] == label)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {mean:.2f} |")
    chosen = [row for row in rows if row["label"] == result["chosen"] and "test_psnr" in row]
    same = "the tutorial's" if result["chosen"] == result["tutorial_recipe"] else "not the tutorial's"
    lines += ["", f"Chosen on validation: {result['chosen']} ({same}). Its test PSNR, scored once: " + ", ".join(
        f"{model} {_pm([row['test_psnr'] for row in chosen if row['model'] == model])} dB" for model in models) + "."]
    return lines


if __name__ == "__main__":
    main()
