"""Past BM3D: how many minutes of training on this CPU a learned photo denoiser needs to beat BM3D on the test photos.

    python benchmarks/past_bm3d.py                              # 4 min per candidate, then 30 min x seeds 42 43 44
    python benchmarks/past_bm3d.py --minutes 60 --seeds 42      # one longer run of the chosen candidate
    python benchmarks/past_bm3d.py --from-json benchmarks/results/past_bm3d.json   # reprint the tables only
    python benchmarks/past_bm3d.py --resume     # go on after an interruption, keeping the trainings already done
    python benchmarks/past_bm3d.py --attempt 2   # the second attempt: natural photos and four levers (about 2 h)

The defaults take about 2 hours on 2 cores, and BM3D needs ``pip install bm3d`` (free for non-commercial use only;
without it, the script says so, leaves BM3D out and carries on). The second attempt also needs sporco's photos:
``pip install --no-deps -r benchmarks/requirements-photos.txt``. The rules, fixed before any run, are the same for
both attempts:

1. **Selection, on the validation photos only.** Every candidate in CANDIDATES trains with seed 42 for the same
   ``--select-minutes`` of training, on fresh patches of the training photos every epoch, and is scored on the
   validation crops (``photos.validation_crops``), plainly and with the 8-fold self-ensemble (the mean of the
   denoised 8 flips and quarter turns of the input, each turned back). The candidate and the test-time option with
   the best validation PSNR are chosen.
2. **Training to a budget of minutes.** Minutes are wall-clock minutes of training on this CPU: everything from
   the first step to the last (patches, noise, fitting), but not the validation scoring and the snapshot saving
   after each epoch. The learning rate follows the tutorial's schedule (a linear warm-up over the first tenth, then
   a cosine decay to zero), set by the clock rather than by a count of steps: its position is the share of the
   budget spent, so every run ends its decay exactly when its minutes are up, whatever its speed, and training
   stops there, in the middle of an epoch if need be. Every epoch's validation PSNR is recorded with the minutes
   so far, and in stage 2 the model is saved as a snapshot every ``SNAPSHOT_MINUTES`` of training, and at the end.
3. **The chosen candidate, full budget.** It trains for ``--minutes`` with each of ``--seeds``, each training (in
   both stages) in a fresh process.
4. **The test photos, read once, at the end**, after all the training: for each seed, every snapshot denoises the
   test photos plainly (the test curve against minutes); the final model is scored with the chosen test-time
   option; every classical filter is tuned on that seed's validation crops and scored (``photos.score_on_test``);
   and BM3D, told the true sigma, denoises that seed's noisy test photos.

A crossing is the first snapshot at which the test curve passes a seed's best tuned filter, or BM3D, and the one from
which it stays above (while the learning rate is high it can drop back below). The curve is the way through one
schedule set for the whole budget: a run given only that many minutes would end its decay there.
Results go to ``benchmarks/results/``: ``past_bm3d.json`` (committed), each seed's final model as
``past_bm3d_seed<N>.keras``, and its snapshots in ``past_bm3d_snapshots/seed<N>/``; the second attempt's names start
``past_bm3d_attempt2`` instead. Git keeps only the JSON file: its paths are relative, and it holds no model.

**The second attempt** (``--attempt 2``). The first attempt's wide U-Net ended 0.07 ± 0.02 dB short of BM3D with
the self-ensemble. The goal now: past BM3D by more than two standard deviations of the gap (``verdict``), under the
same rules and budget, with more natural training photos and a better recipe. Its seven candidates (28 minutes of
stage 1) are the wide U-Net with every lever at once (``levers``), and the same with each lever taken away in turn
(``WITHOUT``): a leave-one-out. Passing BM3D will take the sum of several small gains, so each lever is judged in the
company it will keep; one lever added alone to the first winner could only ever choose a single lever. The levers:

- **Natural photos** (``natural_photos.py``): eleven photos that ship in packages (sporco's five, scikit-learn's
  two, PyWavelets' two, matplotlib's Grace Hopper, scikit-image's motorcycle), with scikit-image's eleven textures,
  microscopy and text photos, each photo as likely as any other. The test and validation photos are natural scenes;
  the first attempt trained on none. Two candidates take it away: the natural photos alone, scikit-image's alone.
- **Residual learning** (``build_residual_unet``): the U-Net predicts the noise, which is subtracted from its input
  and the result clipped, as DnCNN does (Zhang et al., 2017): the noise is alike everywhere, and the untrained model
  is the identity rather than grey. Away: the sigmoid output.
- **L1, then the MSE** (``LossSwitch``): the L1 loss is reported to reach better minima (Zhao et al., 2017, "Loss
  Functions for Image Restoration with Neural Networks"); the MSE, which PSNR measures, from 80 % of the budget, in
  the cosine's tail. Away: the MSE throughout.
- **48-pixel patches**, in batches of 8, the same pixels per step and per epoch as 24-pixel ones in batches of 32:
  each output pixel of the U-Net sees 44x44 input pixels, so in a 24-pixel patch every one of them sees zero padding,
  which a 256-pixel photo has only near its border. (64 pixels would want batches of 4.5.) Away: 24-pixel patches.
- **Flips and turns** of each patch (``augmented``): in the first attempt's stage 1 they gave the notebook's U-Net
  0.10 dB plainly, 0.02 with the self-ensemble. Away: no flips or turns.

Left out of stage 1: the first attempt's winner itself (its stage-1 row is in benchmarks/README.md; ``--candidates
levers ... wide-unet`` runs it again, 4 minutes more). Stage 1's 4 minutes favour what learns fast; 30 minutes may
rank the candidates otherwise: that is the rules' price for choosing on validation within an afternoon.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import utils
import keras  # after utils, which starts TensorFlow quietly
from benchmarks import natural_photos, photos
from benchmarks import run as benchmark

NOTEBOOK = photos.RECIPES[photos.NOTEBOOK_RECIPE]  # 24-pixel patches, 16,000 an epoch, batch 32, peak 4e-3
# Label -> what to build and how to train it. The residual network sees 35x35 pixels, so it trains on 40-pixel
# patches, as many pixels an epoch as the notebook's; a lower peak, as it is deeper and has no normalization.
# Optional keys (absent: the first attempt's way): "photos", a key of TRAINING_SETS; "augment", random flips and
# turns; "loss", a utils.LOSSES name; "mse_from", the share of the budget from which the loss is the MSE.
CANDIDATES = {
    "notebook-unet": {"about": "the notebook's U-Net, filters 16-32-64", "builder": "build_unet", "options": {},
                      **NOTEBOOK},
    "wide-unet": {"about": "a wider U-Net, filters 32-64-128", "builder": "build_unet",
                  "options": {"filters": (32, 64, 128)}, **NOTEBOOK},
    "deep-residual": {"about": "a DnCNN-style residual network, width 48, dilations 1-2-3-4-3-2-1",
                      "builder": "build_residual_denoiser",
                      "options": {"width": 48, "dilations": (1, 2, 3, 4, 3, 2, 1)},
                      "size": 40, "count": 5_760, "batch_size": 32, "peak": 2e-3},
    "notebook-unet-flips": {"about": "the notebook's U-Net, each patch flipped and turned at random",
                            "builder": "build_unet", "options": {}, **NOTEBOOK, "augment": True},
}
# The second attempt: the first one's winner, the wide U-Net, with every lever at once, and each lever taken away in
# turn (see the module's docstring). 48-pixel patches in batches of 8: the pixels of a step and of an epoch stay the
# notebook's (8 x 48 x 48 = 32 x 24 x 24), so only the patches' size changes.
LEVERS = {"about": "wide residual U-Net; scikit-image's and the natural photos; 48-pixel patches, batch 8; flips "
                   "and turns; L1, then the MSE from 80 % of the budget",
          "builder": "build_residual_unet", "options": {"filters": (32, 64, 128)}, "photos": "both",
          "size": 48, "count": 4_000, "batch_size": 8, "peak": 4e-3, "augment": True,
          "loss": "mean_absolute_error", "mse_from": 0.8}
WITHOUT = {  # label -> (what changes, the settings that replace the levers')
    "levers-natural-only": ("the natural photos only", {"photos": "natural"}),
    "levers-scikit-image-only": ("scikit-image's 11 photos only", {"photos": "scikit-image"}),
    "levers-no-residual": ("a sigmoid output, not the residual", {"builder": "build_unet"}),
    "levers-mse": ("the MSE throughout, no L1", {"loss": "mean_squared_error", "mse_from": None}),
    "levers-24px": ("24-pixel patches, batch 32", {"size": 24, "count": 16_000, "batch_size": 32}),
    "levers-no-flips": ("no flips or turns", {"augment": False}),
}
CANDIDATES["levers"] = LEVERS
CANDIDATES.update({label: {**LEVERS, **settings, "about": f"levers, but {change}"}
                   for label, (change, settings) in WITHOUT.items()})
ATTEMPTS = {1: ("notebook-unet", "wide-unet", "deep-residual", "notebook-unet-flips"), 2: ("levers", *WITHOUT)}
# The photos a candidate trains on: the tutorial's (textures, microscopy, text), the natural photos that packages ship
# (natural_photos.py), or both. Each photo is as likely as any other to give a patch, whatever its size.
TRAINING_SETS = {"scikit-image": photos.TRAINING_PHOTOS, "natural": tuple(natural_photos.NATURAL_PHOTOS),
                 "both": (*photos.TRAINING_PHOTOS, *natural_photos.NATURAL_PHOTOS)}
SELECT_MINUTES = 4
SNAPSHOT_MINUTES = 0.5  # stage 2 keeps a snapshot every half minute of training (and the last): the test curve
MINUTES = 30
SEEDS = (42, 43, 44)
MAX_EPOCHS = 100_000  # the clock ends training long before
BM3D_README = 33.88  # BM3D's mean on seed 42's noisy test photos, as benchmarks/README.md measured it
BM3D_MISSING = ("bm3d is not installed (pip install bm3d; free for non-commercial use only), so the BM3D comparison "
                "is left out")


def dihedral(images, index, axes=(0, 1)):
    """The index-th of the 8 symmetries of the square (0: none): a flip when index >= 4, then index % 4 quarter
    turns, in the plane of ``axes``."""
    flipped = np.flip(images, axis=axes[1]) if index >= 4 else images
    return np.rot90(flipped, index % 4, axes=axes)


def undo_dihedral(images, index, axes=(0, 1)):
    turned = np.rot90(images, -(index % 4), axes=axes)
    return np.flip(turned, axis=axes[1]) if index >= 4 else turned


def denoise(model, image, ensemble=False):
    """utils.denoise_image, or with ``ensemble`` the mean of the 8 symmetries of the image, denoised and turned back."""
    if not ensemble:
        return utils.denoise_image(model, image)
    return np.mean([undo_dihedral(utils.denoise_image(model, np.ascontiguousarray(dihedral(image, index))), index)
                    for index in range(8)], axis=0)


def augmented(sampler, seed):
    """``sampler``'s patches, each turned by one of the 8 symmetries, drawn per patch and epoch from (seed, epoch, 4)
    (patch_sampler and train_denoiser use the seeds (seed, epoch) to (seed, epoch, 3))."""
    def draw(epoch):
        patches = sampler(epoch)
        which = np.random.default_rng((seed, epoch, 4)).integers(8, size=len(patches))
        for index in range(1, 8):
            patches[which == index] = dihedral(patches[which == index], index, axes=(1, 2))
        return patches

    draw.settings = {**sampler.settings, "dihedral_seed": seed}
    return draw


def training_photos(name):
    """The photos of TRAINING_SETS[name], grey: scikit-image's from utils, the natural ones from natural_photos."""
    return [natural_photos.load(photo) if photo in natural_photos.NATURAL_PHOTOS else utils.load_photo(photo)
            for photo in TRAINING_SETS[name]]


def _sampler(candidate, seed, patches=None):
    sampler = utils.patch_sampler(training_photos(candidate.get("photos", "scikit-image")),
                                  count=patches or candidate["count"], size=candidate["size"], seed=seed)
    return augmented(sampler, seed) if candidate.get("augment") else sampler


def build_residual_unet(filters=(16, 32, 64)):
    """utils.build_unet, but residual: its last features predict the noise (a linear 1x1 convolution, which starts at
    zero, so the untrained model is the identity), subtracted from the input, then clipped to [0, 1] by a ReLU capped
    at 1 (a built-in layer, so that the model loads safely), as utils.build_residual_denoiser does. The sigmoid's
    output has to learn the whole photo; this one only the noise, which is the same kind everywhere."""
    unet = utils.build_unet(filters=filters)
    features = unet.get_layer("restored_images").input  # the last pair of convolutions, at full resolution
    noise = keras.layers.Conv2D(1, 1, kernel_initializer="zeros", name="predicted_noise")(features)
    restored = keras.layers.Subtract(name="subtract_noise")([unet.input, noise])
    restored = keras.layers.ReLU(max_value=1.0, name="restored_images")(restored)
    return keras.Model(unet.input, restored, name="residual_unet")


BUILDERS = {"build_unet": utils.build_unet, "build_residual_denoiser": utils.build_residual_denoiser,
            "build_residual_unet": build_residual_unet}


def _build(candidate):
    return BUILDERS[candidate["builder"]](**candidate["options"])


def _train(model, sampler, candidate, seed, clock):
    """Train until ``clock`` says the budget is spent; with "mse_from", the loss turns to the MSE from that share of
    it. Returns the minute of training at which it turned, or None."""
    # The share of the budget spent when the last epoch ended (Clock records it just before).
    switch = candidate.get("mse_from") and LossSwitch(lambda: 60 * clock.minutes[-1] / clock.budget,
                                                      candidate["mse_from"])
    try:
        utils.train_denoiser(model, sampler, noise_level=photos.PHOTO_NOISE_SIGMA, epochs=MAX_EPOCHS,
                             loss=candidate.get("loss", "mean_squared_error"), seed=seed,
                             batch_size=candidate["batch_size"], learning_rate=clock.schedule,
                             callbacks=[clock, switch] if switch else [clock], verbose=0)
    except BudgetSpent:
        pass
    return switch.switched_at * clock.budget / 60 if switch and switch.switched_at is not None else None


def _validation_psnr(model, clean, noisy, ensemble=False):
    return float(np.mean([utils.psnr(c[None], denoise(model, n, ensemble)[None])[0]
                          for c, n in zip(clean, noisy, strict=True)]))


class BudgetSpent(Exception):
    """Raised by Clock when the next epoch would start after the budget is spent."""


class ClockSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The tutorial's schedule (utils.learning_rate_schedule's shape) on the clock: ``spent`` is the share of the
    budget's minutes spent so far, which Clock sets, rather than a count of steps."""

    def __init__(self, peak):
        self.peak = peak
        self.spent = keras.Variable(0.0, trainable=False, dtype="float32")

    def __call__(self, step):
        share, warmup = keras.ops.clip(self.spent, 0.0, 1.0), utils.WARMUP_FRACTION
        decay = 0.5 * self.peak * (1.0 + keras.ops.cos(math.pi * (share - warmup) / (1.0 - warmup)))
        return keras.ops.where(share < warmup, self.peak * share / warmup, decay)

    def get_config(self):
        return {"peak": self.peak}


class Clock(keras.callbacks.Callback):
    """Minutes of training: the schedule's position after every few steps, the end of training when the budget is
    spent, and after every epoch the minutes so far, then ``after_epoch(model)``, whose time is not counted."""

    def __init__(self, minutes, peak, after_epoch):
        super().__init__()
        self.budget, self.schedule, self.after_epoch = 60 * minutes, ClockSchedule(peak), after_epoch
        self.minutes, self.paused, self.start = [], 0.0, None

    def seconds(self):
        return time.perf_counter() - self.start - self.paused

    def on_train_begin(self, logs=None):  # train_denoiser calls fit once per epoch
        if self.start is None:
            self.start = time.perf_counter()
        elif self.seconds() >= self.budget:
            raise BudgetSpent

    def on_train_batch_end(self, batch, logs=None):  # every utils.STEPS_PER_EXECUTION steps
        self.schedule.spent.assign(self.seconds() / self.budget)
        if self.seconds() >= self.budget:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.minutes.append((now - self.start - self.paused) / 60)
        self.after_epoch(self.model)
        self.paused += time.perf_counter() - now


class LossSwitch(keras.callbacks.Callback):
    """L1, then the MSE: PSNR is the MSE's measure, and the L1 loss is said to train faster at first (Zhao et al.,
    2017). After the epoch during which ``spent()`` (the share of the budget) reaches ``share``, the model is compiled
    again with ``loss``, and with the same optimizer, so that Adam's moments, its step count and the clock's schedule
    go on (train_denoiser calls fit once per epoch, and the next fit builds its step anew)."""

    def __init__(self, spent, share, loss="mean_squared_error"):
        super().__init__()
        self.spent, self.share, self.loss, self.switched_at = spent, share, loss, None

    def on_train_end(self, logs=None):
        spent = self.spent()
        if self.switched_at is None and spent >= self.share:
            model = self.model
            model.compile(optimizer=model.optimizer, loss=self.loss, metrics=[utils.psnr_metric],
                          steps_per_execution=utils.STEPS_PER_EXECUTION)
            self.switched_at = spent


def _save(model, path):
    """Save the model without its optimizer and clock (a third of the size): all that denoising needs."""
    copy = keras.Model(model.input, model.output, name=model.name)  # the same layers, not compiled
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    copy.save(path)


def train_candidate(task):
    """Train one candidate with one seed for a budget of minutes: the validation PSNR after every epoch, a snapshot
    every SNAPSHOT_MINUTES (and of the last epoch) if ``task["snapshots"]`` names a folder, and at the end the
    validation PSNR with the self-ensemble too."""
    benchmark._start_worker()
    label, seed = task["label"], task["seed"]
    candidate = CANDIDATES[label]
    sampler = _sampler(candidate, seed, task["patches"])
    clean, noisy = photos.validation_crops(seed)
    folder, curve, snapshots, snapshot_minutes = task["snapshots"] and Path(task["snapshots"]), [], [], []
    if folder:
        for old in folder.glob("epoch_*.keras"):
            old.unlink()  # an earlier run's, which may have had more epochs

    def after_epoch(model):
        curve.append(_validation_psnr(model, clean, noisy))
        if folder and (not snapshot_minutes or clock.minutes[-1] >= snapshot_minutes[-1] + SNAPSHOT_MINUTES):
            snapshot(model)

    def snapshot(model):
        snapshots.append(str(folder / f"epoch_{len(curve):03d}.keras"))
        snapshot_minutes.append(clock.minutes[-1])
        _save(model, snapshots[-1])

    keras.utils.set_random_seed(seed)
    model = _build(candidate)
    clock = Clock(task["minutes"], candidate["peak"], after_epoch)
    mse_from_minute = _train(model, sampler, candidate, seed, clock)
    epochs = len(curve)  # the last one cut short where the budget ended, or the last before it
    if folder and snapshot_minutes[-1] != clock.minutes[-1]:
        snapshot(model)  # the final model is always the last snapshot
    if task["model_path"]:
        _save(model, task["model_path"])
    ensemble = _validation_psnr(model, clean, noisy, ensemble=True)
    print(f"[{label}, seed {seed}] {epochs} epochs in {clock.minutes[-1]:.1f} min: validation PSNR {curve[-1]:.2f} dB, "
          f"{ensemble:.2f} dB with the self-ensemble", flush=True)
    return {"label": label, "seed": seed, "epochs": epochs, "curve_minutes": clock.minutes,
            "curve_validation_psnr": curve, "validation_psnr": curve[-1], "validation_psnr_ensemble": ensemble,
            "snapshots": snapshots, "snapshot_minutes": snapshot_minutes, "model_path": task["model_path"],
            "mse_from_minute": mse_from_minute}


def _bm3d_module():
    try:
        import bm3d
    except ImportError:
        return None
    return bm3d


def _psnrs(clean, restored):
    return [float(utils.psnr(c[None], r[None])[0]) for c, r in zip(clean, restored, strict=True)]


def _bm3d_psnrs(bm3d, clean, noisy):
    return _psnrs(clean, [photos.bm3d_denoise(bm3d, n) for n in noisy])


def score_on_test(task):
    """For each seed: photos.score_on_test (the final model plainly, every filter tuned on the validation crops),
    then the final model with the self-ensemble if chosen, BM3D if installed, and every snapshot plainly (the test
    curve). The test photos are read here, after all the training, and nowhere else."""
    benchmark._start_worker()
    bm3d, rows = _bm3d_module(), []
    for run in task["runs"]:
        row = photos.score_on_test({"seeds": [run["seed"]], "model_paths": [run["model_path"]],
                                    "filters": task["filters"]})[0]
        row["psnr"]["model"] = row["psnr"].pop("photo U-Net")
        clean, noisy = photos.noisy_test_photos(run["seed"])
        if task["ensemble"]:
            model = utils.load_denoiser(run["model_path"], image_shape=(photos.CROP, photos.CROP, 1))
            row["psnr"]["model, self-ensemble"] = _psnrs(clean, [denoise(model, n, ensemble=True) for n in noisy])
        row["psnr"]["BM3D"] = _bm3d_psnrs(bm3d, clean, noisy) if bm3d else None
        row["test_curve"] = []
        for path in run["snapshots"]:
            model = utils.load_denoiser(path, image_shape=(photos.CROP, photos.CROP, 1))
            row["test_curve"].append(float(np.mean(_psnrs(clean, [utils.denoise_image(model, n) for n in noisy]))))
        print(f"[test photos, seed {run['seed']}] scored {len(run['snapshots'])} snapshots", flush=True)
        rows.append(row)
    return rows


def crossing(minutes, curve, target):
    """The first snapshot at which ``curve`` passes ``target``, and the one from which it stays above (a high
    learning rate can drop it back below); if none passes, where it ended and its slope (dB per minute, a
    least-squares line) over the last quarter of the minutes."""
    for snapshot, (minute, value) in enumerate(zip(minutes, curve, strict=True), start=1):
        if value > target:
            below = [index for index, later in enumerate(curve) if later <= target]
            stays = below[-1] + 1 if below else 0  # the snapshot after the last one at or below the target
            return {"target": target, "minute": minute, "snapshot": snapshot,
                    "stays_above_from": minutes[stays] if stays < len(curve) else None}
    last = [index for index, minute in enumerate(minutes) if minute >= 0.75 * minutes[-1]]
    slope = float(np.polyfit(np.take(minutes, last), np.take(curve, last), 1)[0]) if len(last) > 1 else None
    return {"target": target, "minute": None, "last": curve[-1], "short_by": target - curve[-1], "slope": slope}


def crossings(result):
    rows = []
    for test, trained in zip(result["test"], result["stage_2"], strict=True):
        minutes, curve, bm3d = trained["snapshot_minutes"], test["test_curve"], test["psnr"]["BM3D"]
        rows.append({"seed": test["seed"], "minutes": minutes[-1], "bm3d_from_readme": bm3d is None,
                     "best tuned filter": crossing(minutes, curve, float(np.mean(test["psnr"][test["best_filter"]]))),
                     "BM3D": crossing(minutes, curve, float(np.mean(bm3d)) if bm3d else BM3D_README)})
    return rows


def _trained(task, arguments):
    """``train_candidate(task)`` in a fresh process; its row is kept in <name>_runs/, and with ``--resume`` a kept
    row of the same task is used instead of training again (to go on after an interrupted run)."""
    name = f"{task['label']}_seed{task['seed']}_{task['minutes']:g}min.json"
    path = arguments.output_dir / f"{arguments.stem}_runs" / name
    if arguments.resume and path.is_file() and json.loads(path.read_text())["task"] == task:
        print(f"[{task['label']}, seed {task['seed']}] kept from an earlier run: {path.name}", flush=True)
        return json.loads(path.read_text())["row"]
    row = benchmark.run_in_fresh_process(train_candidate, task)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"task": task, "row": row}, indent=1))
    return row


def measure(arguments):
    """Stage 1, stage 2, then the test photos, each training in a fresh process."""
    def task(label, seed, minutes, stage_2):
        return {"label": label, "seed": seed, "minutes": minutes, "patches": arguments.patches,
                "snapshots": str(arguments.output_dir / f"{arguments.stem}_snapshots" / f"seed{seed}")
                if stage_2 else None,
                "model_path": str(arguments.output_dir / f"{arguments.stem}_seed{seed}.keras") if stage_2 else None}

    first = [_trained(task(label, photos.SEED, arguments.select_minutes, False), arguments)
             for label in arguments.candidates]
    best = max(first, key=lambda row: max(row["validation_psnr"], row["validation_psnr_ensemble"]))
    chosen, ensemble = best["label"], best["validation_psnr_ensemble"] > best["validation_psnr"]
    print(f"Chosen on validation: {chosen}, {'with' if ensemble else 'without'} the self-ensemble.", flush=True)
    second = [_trained(task(chosen, seed, arguments.minutes, True), arguments) for seed in arguments.seeds]
    runs = [{"seed": row["seed"], "model_path": row["model_path"], "snapshots": row["snapshots"]} for row in second]
    test = benchmark.run_in_fresh_process(score_on_test, {"runs": runs, "filters": arguments.filters,
                                                          "ensemble": ensemble})
    sets = sorted({CANDIDATES[label].get("photos", "scikit-image") for label in arguments.candidates})
    result = {"attempt": arguments.attempt, "select_minutes": arguments.select_minutes, "minutes": arguments.minutes,
              "seeds": arguments.seeds, "candidates": {label: CANDIDATES[label] for label in arguments.candidates},
              "training_sets": {name: list(TRAINING_SETS[name]) for name in sets},
              "photo_versions": natural_photos.versions({photo for name in sets for photo in TRAINING_SETS[name]
                                                         if photo in natural_photos.NATURAL_PHOTOS}),
              "stage_1": first, "chosen": chosen, "self_ensemble": ensemble, "stage_2": second, "test": test,
              "bm3d_installed": all(row["psnr"]["BM3D"] is not None for row in test)}
    result["crossings"] = crossings(result)
    return result


def _epoch_seconds(row):
    """Seconds per epoch, median (fastest to slowest): the machine's speed. The last epoch, cut by the budget, is
    left out."""
    seconds = np.diff([0.0, *row["curve_minutes"]])[:-1] * 60
    return f"{np.median(seconds):.1f} ({seconds.min():.1f} to {seconds.max():.1f})" if len(seconds) else "—"


def candidates_table(result):
    lines = [(f"Stage 1, seed {photos.SEED}, {result['select_minutes']:g} min of training each: validation PSNR (dB) "
              f"on the middle crops of {', '.join(photos.VALIDATION_PHOTOS)}"), "",
             "| candidate | validation PSNR (dB) | with self-ensemble (dB) | epochs | minutes | seconds per epoch |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {row['label']}: {result['candidates'][row['label']]['about']} | {row['validation_psnr']:.2f} | "
              f"{row['validation_psnr_ensemble']:.2f} | {row['epochs']} | {row['curve_minutes'][-1]:.1f} | "
              f"{_epoch_seconds(row)} |" for row in result["stage_1"]]
    option = "with" if result["self_ensemble"] else "without"
    lines += ["", f"Chosen on validation: {result['chosen']}, {option} the self-ensemble.", "",
              f"Stage 2, {result['chosen']}, {result['minutes']:g} min of training per seed", "",
              "| seed | epochs | minutes | validation PSNR (dB) | with self-ensemble (dB) | seconds per epoch |",
              "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {row['seed']} | {row['epochs']} | {row['curve_minutes'][-1]:.1f} | {row['validation_psnr']:.2f} | "
              f"{row['validation_psnr_ensemble']:.2f} | {_epoch_seconds(row)} |" for row in result["stage_2"]]
    return lines


def scores_table(result):
    test, chosen, photo_count = result["test"], result["chosen"], len(photos.TEST_PHOTOS)
    final = {"model, self-ensemble": f"{chosen}, self-ensemble"} if result["self_ensemble"] else {}
    names = {"noisy input": "noisy input", **final, "model": f"{chosen}, plain", "BM3D": "BM3D",
             "best tuned filter": "best tuned filter"}
    lines = [(f"Test photos, scored once at the end: PSNR (dB), mean ± sd over seeds "
              f"{', '.join(str(row['seed']) for row in test)}"), "",
             "| method | " + " | ".join(photos.TEST_PHOTOS) + " | mean |", "|---|" + "---:|" * (photo_count + 1)]
    for name, shown in names.items():
        if name == "BM3D" and not result["bm3d_installed"]:
            lines.append("| BM3D | " + " | ".join(["not installed"] * (photo_count + 1)) + " |")
            continue
        values = [row["psnr"][row["best_filter"] if name == "best tuned filter" else name] for row in test]
        per_photo = [photos._pm([seed_values[index] for seed_values in values]) for index in range(photo_count)]
        lines.append(f"| {shown} | " + " | ".join(per_photo) + f" | {photos._pm([np.mean(v) for v in values])} |")
    if result["bm3d_installed"]:  # paired: each seed's model and BM3D denoise the same noisy photos
        learned = "model, self-ensemble" if result["self_ensemble"] else "model"
        gaps = [np.subtract(row["psnr"][learned], row["psnr"]["BM3D"]) for row in test]
        lines.append(f"| {names[learned]} minus BM3D | " + " | ".join(
            photos._pm([gap[index] for gap in gaps]) for index in range(photo_count))
            + f" | {photos._pm([np.mean(gap) for gap in gaps])} |")
    return lines + ["", "Best tuned filter by seed: " + ", ".join(
        f"{row['seed']}: {row['best_filter']} ({row['strengths'][row['best_filter']]})" for row in test) + "."]


def _crossing_text(entry, minutes):
    if entry["minute"] is not None:
        stays = entry.get("stays_above_from")
        return f"{entry['minute']:.1f} min" + (
            "" if stays == entry["minute"] else ", then below it again" if stays is None
            else f", above it for good from {stays:.1f} min")
    text = f"not within {minutes:.1f} min: {entry['last']:.2f} dB, {entry['short_by']:.2f} dB short"
    if entry["slope"] is None:
        return text + " (too few epochs for a slope)"
    text += f", {entry['slope']:+.3f} dB/min over the last quarter"
    return text + (f": about {entry['short_by'] / entry['slope']:.0f} min more at that rate" if entry["slope"] > 0
                   else ": not rising")


def crossings_table(result):
    lines = [("Crossings: the first minute of training at which the test curve (the snapshots, denoising plainly) "
              "passes each seed's mean PSNR of its best tuned filter and of BM3D"), "",
             "| seed | best tuned filter (dB) | passed at | BM3D (dB) | passed at |", "|---:|---:|---|---:|---|"]
    for row in result["crossings"]:
        cells = [f"{row[name]['target']:.2f} | {_crossing_text(row[name], row['minutes'])}"
                 for name in ("best tuned filter", "BM3D")]
        lines.append(f"| {row['seed']} | " + " | ".join(cells) + " |")
    if any(row["bm3d_from_readme"] for row in result["crossings"]):
        lines += ["", (f"bm3d is not installed: the BM3D column uses {BM3D_README} dB, its mean on seed 42's noisy "
                   "test photos as benchmarks/README.md measured it.")]
    return lines + ["", ("A crossing is on the way through one schedule set for the whole budget: a run given only "
                     "that many minutes would end its decay there, and score differently.")]


CURVE_MARKS = (1, 2, 4, 8, 15, 30, 60)  # minutes of training at which the curve table reads the curves


def _at(minutes, values, mark):
    """The last value recorded at or before ``mark`` minutes (None before the first)."""
    earlier = [value for minute, value in zip(minutes, values, strict=True) if minute <= mark]
    return earlier[-1] if earlier else None


def curve_table(result):
    marks = [mark for mark in CURVE_MARKS if mark <= result["minutes"]]
    lines = [("The curve: mean PSNR (dB) over seeds after so many minutes of training, on the validation crops (every "
              "epoch) and on the test photos (the snapshots, scored at the end)"), "",
             "| minutes | validation PSNR (dB) | test PSNR (dB) |", "|---:|---:|---:|"]
    for mark in [*marks, None]:
        validation, test = [], []
        for trained, scored in zip(result["stage_2"], result["test"], strict=True):
            end = trained["curve_minutes"][-1]
            validation.append(_at(trained["curve_minutes"], trained["curve_validation_psnr"], mark or end))
            test.append(_at(trained["snapshot_minutes"], scored["test_curve"], mark or end))
        if None in validation or None in test:
            continue
        label = f"{mark:g}" if mark else "end"
        lines.append(f"| {label} | {photos._pm(validation)} | {photos._pm(test)} |")
    return lines


def plot_curve(result, path):
    """The test curve of every seed against minutes, with each seed's best tuned filter and BM3D as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4), dpi=96)
    for trained, scored, crossed in zip(result["stage_2"], result["test"], result["crossings"], strict=True):
        axes.plot(trained["snapshot_minutes"], scored["test_curve"], marker=".", label=f"seed {scored['seed']}")
    filters = [row["best tuned filter"]["target"] for row in result["crossings"]]
    bm3d = [row["BM3D"]["target"] for row in result["crossings"]]
    axes.axhline(sum(filters) / len(filters), color="grey", linestyle="--", label="best tuned filter")
    axes.axhline(sum(bm3d) / len(bm3d), color="black", linestyle=":", label="BM3D")
    axes.set(xlabel="minutes of training (2-core CPU)", ylabel="mean test PSNR (dB)",
             title=f"{result['chosen']} on the 4 test photos, sigma 25/255")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def ensemble_gap_lines(result):
    """With the self-ensemble, how far each seed's final model ends from BM3D, and the minutes that the plain curve's
    last-quarter slope would take to close it: an extrapolation, which assumes the ensemble's gain holds."""
    if not (result["self_ensemble"] and result["bm3d_installed"]):
        return []
    parts = []
    for test, row in zip(result["test"], result["crossings"], strict=True):
        gap = float(np.mean(test["psnr"]["BM3D"]) - np.mean(test["psnr"]["model, self-ensemble"]))
        slope = row["BM3D"].get("slope")
        if gap <= 0:
            parts.append(f"seed {test['seed']}: past BM3D by {-gap:.2f} dB")
        else:
            rate = f", about {gap / slope:.0f} min more at the plain curve's rate" if slope and slope > 0 else ""
            parts.append(f"seed {test['seed']}: {gap:.2f} dB short{rate}")
    return ["", "With the self-ensemble, the final model against BM3D: " + "; ".join(parts) + "."]


def verdict(result):
    """The goal of the second attempt: past BM3D by more than two standard deviations of the gap. The gap is, for each
    seed, the final model's mean PSNR on the test photos (the chosen way) minus BM3D's on the same noisy photos; its
    mean and sd are over the seeds. None without BM3D or with a single seed (no spread to compare with)."""
    if not result["bm3d_installed"] or len(result["test"]) < 2:
        return None
    learned = "model, self-ensemble" if result["self_ensemble"] else "model"
    gaps = [float(np.mean(row["psnr"][learned]) - np.mean(row["psnr"]["BM3D"])) for row in result["test"]]
    mean, sd = photos._mean_sd(gaps)
    return {"gaps": gaps, "mean": mean, "sd": sd, "passes": mean > 2 * sd}


def verdict_lines(result):
    found = verdict(result)
    if found is None:
        why = "bm3d is not installed" if not result["bm3d_installed"] else "a single seed has no spread"
        return ["", f"Past BM3D by more than two standard deviations of the gap: not measured ({why})."]
    answer = "yes" if found["passes"] else "no"
    return ["", (f"Past BM3D by more than two standard deviations of the gap: {answer}, the final model minus BM3D is "
                 f"{found['mean']:+.3f} ± {found['sd']:.3f} dB (mean ± sd over seeds of the mean over the test "
                 f"photos; 2 sd = {2 * found['sd']:.3f} dB).")]


def wall_lines(result):
    """The whole command's wall time: both stages, the test photos, BM3D and the filters' tuning."""
    if "wall_seconds" not in result:
        return []
    return ["", f"The whole command took {result['wall_seconds'] / 60:.0f} minutes of wall time"
                + (f" ({result['machine']})." if result.get("machine") else ".")]


def tables(result):
    return [*candidates_table(result), "", *scores_table(result), "", *curve_table(result), "",
            *crossings_table(result), *ensemble_gap_lines(result), *verdict_lines(result), *wall_lines(result)]


def _positive_minutes(text):
    minutes = float(text)
    if not 0 < minutes < math.inf:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a positive number of minutes, not {text}")
    return minutes


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=_positive_minutes, default=MINUTES,
                        help=f"minutes of training for the chosen candidate, per seed (default: {MINUTES})")
    parser.add_argument("--select-minutes", type=_positive_minutes, default=SELECT_MINUTES,
                        help=f"minutes of training for each candidate in stage 1 (default: {SELECT_MINUTES})")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS),
                        help=f"seeds for the chosen candidate (default: {' '.join(map(str, SEEDS))})")
    parser.add_argument("--attempt", type=int, choices=list(ATTEMPTS), default=1,
                        help="1: the first attempt's candidates and file names (past_bm3d*); 2: the second's, the "
                             "levers and the natural photos (past_bm3d_attempt2*) (default: 1)")
    parser.add_argument("--candidates", nargs="+", choices=list(CANDIDATES), metavar="CANDIDATE",
                        help=("candidates for stage 1 (default: the attempt's: "
                              + "; ".join(f"{key}: {', '.join(labels)}" for key, labels in ATTEMPTS.items()) + ")"))
    parser.add_argument("--patches", type=int, help="patches per epoch for every candidate (default: each one's)")
    parser.add_argument("--filters", nargs="+", choices=list(photos.PHOTO_GRIDS), default=list(photos.PHOTO_GRIDS),
                        metavar="FILTER", help="classical filters to tune and score (default: all five)")
    parser.add_argument("--output-dir", type=Path, default=benchmark.RESULTS_DIR, help="where to write the results")
    parser.add_argument("--from-json", type=Path, metavar="JSON",
                        help="reprint the tables of a saved result file")
    parser.add_argument("--resume", action="store_true",
                        help="use the trainings kept in <name>_runs/ from an interrupted run with the same settings")
    arguments = parser.parse_args(argv)
    arguments.candidates = arguments.candidates or list(ATTEMPTS[arguments.attempt])
    arguments.stem = "past_bm3d" if arguments.attempt == 1 else f"past_bm3d_attempt{arguments.attempt}"
    if arguments.from_json and not arguments.from_json.is_file():
        parser.error(f"--from-json: no file at {arguments.from_json}")
    if min(arguments.seeds) < 0 or len(set(arguments.seeds)) != len(arguments.seeds):
        parser.error("--seeds must be different non-negative integers")
    if len(set(arguments.candidates)) != len(arguments.candidates):
        parser.error("--candidates must be different")
    if arguments.patches is not None and arguments.patches < 1:
        parser.error("--patches must be at least 1")
    return arguments


def _natural_photos(labels):
    """The natural photos that the candidates train on (none for the first attempt's)."""
    names = {photo for label in labels for photo in TRAINING_SETS[CANDIDATES[label].get("photos", "scikit-image")]}
    return sorted(names & set(natural_photos.NATURAL_PHOTOS))


def main(argv=None):
    arguments = parse_arguments(argv)
    if arguments.from_json:
        result = json.loads(arguments.from_json.read_text())
        result["crossings"] = crossings(result)  # derived from the stored curves, so as this version reads them
        print("\n".join(tables(result)))
        return result
    names = _natural_photos(arguments.candidates)
    missing = natural_photos.missing(names)
    if missing:  # before any training, not in the middle of stage 1
        raise SystemExit("\n".join(missing))
    for note in natural_photos.version_notes(names):
        print(note, flush=True)
    if _bm3d_module() is None:
        print(BM3D_MISSING, flush=True)
    start = time.perf_counter()
    arguments.output_dir.mkdir(parents=True, exist_ok=True)
    result = measure(arguments)
    result["wall_seconds"] = time.perf_counter() - start
    result["machine"] = benchmark.machine_details()["machine"]
    result["verdict"] = verdict(result)
    picture = plot_curve(result, arguments.output_dir / f"{arguments.stem}_curve.png")
    print(f"The curve's picture: {picture.name}", flush=True)
    return photos.write_result(result, arguments.output_dir / f"{arguments.stem}.json", tables(result))


if __name__ == "__main__":
    main()
