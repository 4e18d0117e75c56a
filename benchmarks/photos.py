"""Photographs: the notebook's photo U-Net chosen on the validation photos, its spread over seeds against the best
tuned filter on the test photos, and BM3D for context.

    python benchmarks/photos.py sweep   # which recipe for the photo U-Net, chosen on the validation photos
    python benchmarks/photos.py curve   # the notebook's photo U-Net: validation PSNR against minutes, 3 seeds
    python benchmarks/photos.py bm3d    # BM3D on the notebook's noisy test photos (pip install bm3d first)

``sweep`` trains the notebook's U-Net on random patches of the training photos with each recipe (seed 42), scores
it on the validation photos after every epoch, trains the best few again with seeds 43 and 44, and chooses the
recipe with the best mean validation PSNR. Only then does it read the test photos, once: for each seed of the
chosen recipe, the U-Net and every classical filter (tuned on the validation photos with that seed's noise), photo
by photo. That is the spread over seeds of the photo comparison that the notebook makes for seed 42. Each training
runs in a fresh process; results go to ``benchmarks/results/`` (git ignores it).

``curve`` trains the notebook's recipe with seeds 42, 43 and 44 and records the validation PSNR after every epoch
against the minutes of training, beside the best tuned filter's validation PSNR with that seed's noise: how long the
U-Net needs to pass the filter, and where on the curve the gain comes. It reads no test photo.

``bm3d`` scores BM3D on exactly the noisy test photos that the notebook scores (seed 42), told the true noise
level. The ``bm3d`` package is free for non-commercial use only, so it is not one of the tutorial's requirements:
without it, the script says so and stops.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import utils
from benchmarks import run as benchmark

# As the notebook's parameters and its "Photographs" section set them.
SEED = 42
PHOTO_NOISE_SIGMA = 25 / 255
TRAINING_PHOTOS = ("brick", "cell", "grass", "gravel", "hubble_deep_field", "immunohistochemistry", "microaneurysms",
                   "page", "retina", "rocket", "text")
VALIDATION_PHOTOS = ("astronaut", "chelsea", "coffee")
TEST_PHOTOS = ("camera", "moon", "coins", "clock")
CROP = 256  # the validation photos are scored on their middle 256x256 crops, as the notebook tunes its filters
PHOTO_GRIDS = {"median": (3, 5), "gaussian_blur": (0.5, 0.75, 1.0, 1.5),
               "nl_means": (0.05, 0.06, 0.07, 0.08, 0.09, 0.1),
               "total_variation": (0.04, 0.06, 0.08, 0.1, 0.15),
               "wavelet": (0.06, 0.08, 0.1, 0.12, 0.15)}
EPOCHS = 14
# The candidates: the same U-Net and schedule shape (warm-up, then cosine to zero), 14 epochs; the patch counts keep
# the pixels per epoch of 9,000 patches of 32x32, so that every recipe costs about the same minutes.
RECIPES = {
    "32-pixel patches, batch 32, peak 4e-3": {"size": 32, "count": 9_000, "batch_size": 32, "peak": 4e-3},
    "24-pixel patches, batch 32, peak 4e-3": {"size": 24, "count": 16_000, "batch_size": 32, "peak": 4e-3},
    "40-pixel patches, batch 32, peak 4e-3": {"size": 40, "count": 5_760, "batch_size": 32, "peak": 4e-3},
    "32-pixel patches, batch 32, peak 2e-3": {"size": 32, "count": 9_000, "batch_size": 32, "peak": 2e-3},
    "32-pixel patches, batch 32, peak 8e-3": {"size": 32, "count": 9_000, "batch_size": 32, "peak": 8e-3},
    "32-pixel patches, batch 64, peak 4e-3": {"size": 32, "count": 9_000, "batch_size": 64, "peak": 4e-3},
}
NOTEBOOK_RECIPE = "24-pixel patches, batch 32, peak 4e-3"
FINALISTS = 2
FINAL_SEEDS = (43, 44)


def middle_crop(photo, size=CROP):
    top, left = (photo.shape[0] - size) // 2, (photo.shape[1] - size) // 2
    return photo[top:top + size, left:left + size]


def validation_crops(seed):
    """The validation photos' middle crops and their noisy copies, the noise drawn from ``seed + 3`` as there."""
    clean = np.stack([middle_crop(utils.load_photo(name)) for name in VALIDATION_PHOTOS])
    return clean, utils.add_noise(clean, "gaussian", PHOTO_NOISE_SIGMA, seed=seed + 3)


def noisy_test_photos(seed=SEED):
    """The notebook's test photos and their noisy copies, noise drawn from the seed (seed, index) as there."""
    clean = [utils.load_photo(name) for name in TEST_PHOTOS]
    noisy = [utils.add_noise(photo[None], "gaussian", PHOTO_NOISE_SIGMA, seed=(seed, index))[0]
             for index, photo in enumerate(clean)]
    return clean, noisy


def _crop_psnr(model, clean, noisy):
    return float(np.mean([utils.psnr(c[None], utils.denoise_image(model, n)[None])[0]
                          for c, n in zip(clean, noisy, strict=True)]))


def train_photo_unet(task):
    """Train the U-Net on fresh patches with one recipe and seed; its validation PSNR after every epoch."""
    benchmark._start_worker()
    import keras

    recipe, seed = task["recipe"], task["seed"]
    sampler = utils.patch_sampler([utils.load_photo(name) for name in TRAINING_PHOTOS], count=task.get(
        "patches") or recipe["count"], size=recipe["size"], seed=seed)
    clean, noisy = validation_crops(seed)

    class Curve(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.minutes, self.psnr, self.seconds = [], [], 0.0

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds += time.perf_counter() - self.start  # training time only, not this scoring
            self.minutes.append(self.seconds / 60)
            self.psnr.append(_crop_psnr(self.model, clean, noisy))

    keras.utils.set_random_seed(seed)
    model, curve = utils.build_unet(), Curve()
    utils.train_denoiser(model, sampler, noise_level=PHOTO_NOISE_SIGMA, epochs=task["epochs"], loss="mean_squared_error",
                         seed=seed, batch_size=recipe["batch_size"], learning_rate=recipe["peak"], callbacks=[curve],
                         verbose=0)
    Path(task["model_path"]).parent.mkdir(parents=True, exist_ok=True)
    model.save(task["model_path"])
    print(f"[{task['label']}, seed {seed}] validation PSNR {curve.psnr[-1]:.2f} dB after {curve.minutes[-1]:.1f} min",
          flush=True)
    return {"label": task["label"], "seed": seed, "validation_psnr": curve.psnr[-1], "curve_minutes": curve.minutes,
            "curve_psnr": curve.psnr, "model_path": task["model_path"]}


def score_on_test(task):
    """For each seed's model: tune every filter on the validation crops with that seed's noise, then score the U-Net
    and every tuned filter on the test photos with that seed's noise, photo by photo. The test photos are read here
    and nowhere else."""
    benchmark._start_worker()
    rows = []
    for seed, path in zip(task["seeds"], task["model_paths"], strict=True):
        clean_crops, noisy_crops = validation_crops(seed)
        clean, noisy = noisy_test_photos(seed)
        model = utils.load_denoiser(path, image_shape=(CROP, CROP, 1))
        scores = {"noisy input": [utils.psnr(c[None], n[None])[0] for c, n in zip(clean, noisy, strict=True)],
                  "photo U-Net": [utils.psnr(c[None], utils.denoise_image(model, n)[None])[0]
                                  for c, n in zip(clean, noisy, strict=True)]}
        strengths = {}
        for method in task["filters"]:
            strengths[method], _ = utils.tune_classical_filter(method, clean_crops, noisy_crops,
                                                               grid=PHOTO_GRIDS[method], noise_sigma=PHOTO_NOISE_SIGMA)
            scores[method] = [utils.psnr(c[None], utils.classical_denoise(
                n[None], method, strengths[method], noise_sigma=PHOTO_NOISE_SIGMA))[0]
                for c, n in zip(clean, noisy, strict=True)]
        best = max(task["filters"], key=lambda method: np.mean(scores[method]))
        rows.append({"seed": seed, "best_filter": best, "strengths": strengths,
                     "psnr": {name: [float(value) for value in values] for name, values in scores.items()}})
    return rows


def _mean_sd(values):
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _pm(values):
    mean, sd = _mean_sd(values)
    return f"{mean:.2f} ± {sd:.2f}"


def sweep(arguments):
    folder = arguments.output_dir / "photo_models"

    def tasks(labels, seeds):
        return [{"label": label, "recipe": RECIPES[label], "seed": seed, "epochs": arguments.epochs,
                 "patches": arguments.patches, "model_path": str(folder / f"{label.replace(' ', '_')}_{seed}.keras")}
                for label in labels for seed in seeds]

    first = [benchmark.run_in_fresh_process(train_photo_unet, task) for task in tasks(arguments.recipes, [SEED])]
    finalists = [row["label"] for row in sorted(first, key=lambda row: -row["validation_psnr"])][:arguments.finalists]
    second = [benchmark.run_in_fresh_process(train_photo_unet, task) for task in tasks(finalists, FINAL_SEEDS)]

    def mean_of(label):
        return statistics.mean(row["validation_psnr"] for row in first + second if row["label"] == label)

    chosen = max(finalists, key=mean_of)
    chosen_rows = [row for row in first + second if row["label"] == chosen]
    test = benchmark.run_in_fresh_process(score_on_test, {"seeds": [row["seed"] for row in chosen_rows],
                                                          "model_paths": [row["model_path"] for row in chosen_rows],
                                                          "filters": arguments.filters})
    return {"stage_1": first, "stage_2": second, "finalists": finalists, "chosen": chosen, "test": test,
            "notebook_recipe": NOTEBOOK_RECIPE}


def table(result):
    lines = [("Stage 1, seed 42: validation PSNR (dB) on the middle crops of "
             f"{', '.join(VALIDATION_PHOTOS)}, and minutes of training"), "",
             "| recipe | validation PSNR (dB) | minutes |", "|---|---:|---:|"]
    lines += [f"| {row['label']} | {row['validation_psnr']:.2f} | {row['curve_minutes'][-1]:.1f} |"
              for row in result["stage_1"]]
    rows = result["stage_1"] + result["stage_2"]
    lines += ["", (f"Stage 2, the {len(result['finalists'])} best with seeds {SEED}, "
                  f"{', '.join(map(str, FINAL_SEEDS))}: validation PSNR (dB), mean ± sd"), "",
              "| recipe | validation PSNR (dB) |", "|---|---:|"]
    lines += [f"| {label} | {_pm([row['validation_psnr'] for row in rows if row['label'] == label])} |"
              for label in result["finalists"]]
    same = "the notebook's" if result["chosen"] == result["notebook_recipe"] else "not the notebook's"
    lines += ["", f"Chosen on validation: {result['chosen']} ({same}).", "",
              (f"Test photos, scored once: PSNR (dB), mean ± sd over seeds {', '.join(str(r['seed']) for r in result['test'])}"
              " (each seed draws its own weights, patches, noise, and filter tuning)"), ""]
    test = result["test"]
    best = {row["seed"]: row["best_filter"] for row in test}
    lines += ["| method | " + " | ".join(TEST_PHOTOS) + " | mean |", "|---|" + "---:|" * (len(TEST_PHOTOS) + 1)]
    for name in ("noisy input", "photo U-Net", "best tuned filter", "photo U-Net minus best filter"):
        def values(row, name=name):
            psnr = row["psnr"]
            if name == "best tuned filter":
                return psnr[best[row["seed"]]]
            if name == "photo U-Net minus best filter":
                return [u - f for u, f in zip(psnr["photo U-Net"], psnr[best[row["seed"]]], strict=True)]
            return psnr[name]
        per_photo = [_pm([values(row)[index] for row in test]) for index in range(len(TEST_PHOTOS))]
        lines.append(f"| {name} | " + " | ".join(per_photo) + f" | {_pm([np.mean(values(row)) for row in test])} |")
    lines += ["", "Best tuned filter by seed: " + ", ".join(
        f"{row['seed']}: {row['best_filter']} ({row['strengths'][row['best_filter']]})" for row in test) + "."]
    return lines


def tuned_filters_on_validation(seed):
    """{filter: (best strength, its validation PSNR)}, each filter tuned on the validation crops with seed's noise."""
    benchmark._start_worker()
    clean, noisy = validation_crops(seed)
    found = {}
    for method, grid in PHOTO_GRIDS.items():
        strength, tried = utils.tune_classical_filter(method, clean, noisy, grid=grid, noise_sigma=PHOTO_NOISE_SIGMA)
        found[method] = (strength, float(tried[strength]))
    return found


def curve(arguments):
    """The notebook's recipe, one training per seed, with its validation curve and the best filter's score."""
    folder = arguments.output_dir / "photo_models"
    runs = []
    for seed in arguments.seeds:
        task = {"label": NOTEBOOK_RECIPE, "recipe": RECIPES[NOTEBOOK_RECIPE], "seed": seed, "epochs": arguments.epochs,
                "patches": arguments.patches, "model_path": str(folder / f"curve_{seed}.keras")}
        row = benchmark.run_in_fresh_process(train_photo_unet, task)
        row["filters"] = benchmark.run_in_fresh_process(tuned_filters_on_validation, seed)
        runs.append(row)
    return {"recipe": NOTEBOOK_RECIPE, "epochs": arguments.epochs, "runs": runs}


def crossing(minutes, psnr, target):
    """The minutes at which a curve first passes ``target``, and from which it stays above; None where it does not."""
    above = [value > target for value in psnr]
    first = next((minute for minute, is_above in zip(minutes, above, strict=True) if is_above), None)
    stays = next((minutes[index] for index in range(len(above)) if all(above[index:])), None)
    return first, stays


def curve_table(result):
    runs = result["runs"]
    seeds = ", ".join(str(run["seed"]) for run in runs)
    title = (f"Validation PSNR (dB) on the middle crops of {', '.join(VALIDATION_PHOTOS)} after each epoch, against "
             f"the minutes of training: {result['recipe']}, mean ± sd over seeds {seeds}")
    lines = [title, "", "| epoch | minutes of training | validation PSNR (dB) |", "|---:|---:|---:|"]
    for epoch in range(len(runs[0]["curve_psnr"])):
        minutes = _pm([run["curve_minutes"][epoch] for run in runs])
        lines.append(f"| {epoch + 1} | {minutes} | {_pm([run['curve_psnr'][epoch] for run in runs])} |")
    header = ("| seed | best tuned filter on validation | its validation PSNR (dB) | the U-Net passes it at | "
              "and stays above from |")
    lines += ["", header, "|---:|---|---:|---|---|"]
    for run in runs:
        method = max(run["filters"], key=lambda name: run["filters"][name][1])
        strength, score = run["filters"][method]
        passes = ["never" if minute is None else f"{minute:.1f} min"
                  for minute in crossing(run["curve_minutes"], run["curve_psnr"], score)]
        lines.append(f"| {run['seed']} | {method} ({strength}) | {score:.2f} | {passes[0]} | {passes[1]} |")
    second_half = [run["curve_psnr"][-1] - next(psnr for minute, psnr in zip(run["curve_minutes"], run["curve_psnr"],
                                                                            strict=True)
                                                if minute >= run["curve_minutes"][-1] / 2) for run in runs]
    total = _pm([run["curve_minutes"][-1] for run in runs])
    lines += ["", f"Gain over the second half of the minutes: {_pm(second_half)} dB, of {total} minutes in all."]
    return lines


def bm3d_denoise(bm3d, noisy_photo):
    """BM3D (the ``bm3d`` module) on one noisy photo, told the true noise level, clipped to [0, 1]."""
    return np.clip(bm3d.bm3d(noisy_photo, sigma_psd=PHOTO_NOISE_SIGMA), 0.0, 1.0).astype(np.float32)


def bm3d_scores():
    try:
        import bm3d
    except ImportError:
        raise SystemExit("the bm3d package is not installed (pip install bm3d; free for non-commercial use "
                         "only), so there is nothing to measure") from None
    clean, noisy = noisy_test_photos()
    scores = []
    for name, clean_photo, noisy_photo in zip(TEST_PHOTOS, clean, noisy, strict=True):
        start = time.perf_counter()
        restored = bm3d_denoise(bm3d, noisy_photo)
        scores.append(float(utils.psnr(clean_photo[None], restored[None])[0]))
        print(f"{name}: {scores[-1]:.2f} dB ({time.perf_counter() - start:.0f} s)", flush=True)
    noisy_scores = [float(utils.psnr(c[None], n[None])[0]) for c, n in zip(clean, noisy, strict=True)]
    return {"test_photos": list(TEST_PHOTOS), "sigma": PHOTO_NOISE_SIGMA, "seed": SEED,
            "bm3d_version": importlib.metadata.version("bm3d"), "psnr": dict(zip(TEST_PHOTOS, scores, strict=True)),
            "noisy_psnr": dict(zip(TEST_PHOTOS, noisy_scores, strict=True)), "mean": float(np.mean(scores))}


def bm3d_table(result):
    """BM3D's test-photo PSNR, one column per photo and the mean."""
    photos = result["test_photos"]

    def row(label, scores, mean):
        return f"| {label} | " + " | ".join(f"{scores[photo]:.2f}" for photo in photos) + f" | {mean} |"

    return [f"| test photo | {' | '.join(photos)} | mean |", "| --- |" + " ---: |" * (len(photos) + 1),
            row("noisy input", result["noisy_psnr"], f"{np.mean(list(result['noisy_psnr'].values())):.2f}"),
            row("BM3D, PSNR (dB)", result["psnr"], f"**{result['mean']:.2f}**")]


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("probe", choices=("sweep", "curve", "bm3d"), help="what to measure")
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES), metavar="RECIPE",
                        help="recipes for 'sweep' (default: all)")
    parser.add_argument("--finalists", type=int, default=FINALISTS,
                        help=f"recipes that 'sweep' trains again with seeds {FINAL_SEEDS} (default: {FINALISTS})")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs (default: {EPOCHS}, the notebook's)")
    parser.add_argument("--patches", type=int, help="patches per epoch for every recipe (default: each recipe's)")
    parser.add_argument("--filters", nargs="+", choices=list(PHOTO_GRIDS), default=list(PHOTO_GRIDS), metavar="FILTER",
                        help="classical filters to tune and score (default: all five)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[SEED, *FINAL_SEEDS],
                        help="seeds for 'curve' (default: 42 43 44)")
    parser.add_argument("--output-dir", type=Path, default=benchmark.RESULTS_DIR, help="where to write the results")
    arguments = parser.parse_args(argv)
    if min(arguments.finalists, arguments.epochs, arguments.patches or 1) < 1:
        parser.error("--finalists, --epochs and --patches must be at least 1")
    return arguments


def main(argv=None):
    arguments = parse_arguments(argv)
    start = time.perf_counter()
    if arguments.probe == "bm3d":
        result = bm3d_scores()
        result["wall_seconds"] = time.perf_counter() - start
        return write_result(result, arguments.output_dir / "photo_bm3d.json", bm3d_table(result))
    if arguments.probe == "curve":
        result = curve(arguments)
        result["wall_seconds"] = time.perf_counter() - start
        return write_result(result, arguments.output_dir / "photo_curve.json", curve_table(result))
    result = sweep(arguments)
    result["wall_seconds"] = time.perf_counter() - start
    return write_result(result, arguments.output_dir / "photo_sweep.json", table(result))


def write_result(result, path, lines):
    """Write ``result`` as JSON to ``path``, with its tables (``lines``) as the report that benchmarks/tables.py shows,
    and print them and the minutes it took."""
    path.parent.mkdir(parents=True, exist_ok=True)
    result["report"] = {"main": lines}
    path.write_text(json.dumps(benchmark.relative_paths(result, path.parent.resolve()), indent=1, ensure_ascii=False))
    print("\n".join(lines))
    print(f"Wrote {path.name} to {path.parent.name}/ in {result['wall_seconds'] / 60:.1f} min.")
    return result


if __name__ == "__main__":
    main()
