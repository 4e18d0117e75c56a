"""The notebook's own code, run cell by cell: its models and training loop stay in step with utils.py, and its
cells run on any machine (no /proc/cpuinfo, an ARM CPU).

Cells are found by their tags (``autoencoder-model``, ``keras-io-model``, ``unet-model``, ``residual-model``,
``autoencoder-compile``, ``autoencoder-training``, ``reload-check``, ``part-1-checks`` and each chapter's checks),
so these tests fail if a cell is edited out of step.
"""

import builtins
import contextlib
import io
import json
import pathlib
import platform
import sys
import time
from pathlib import Path

import keras
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from keras import layers

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import utils

matplotlib.use("Agg")
NOTEBOOK = json.loads((ROOT / "denoising_autoencoder.ipynb").read_text())


def cell(tag):
    """The source of the one code cell with this tag."""
    sources = ["".join(cell["source"]) for cell in NOTEBOOK["cells"]
               if cell["cell_type"] == "code" and tag in cell.get("metadata", {}).get("tags", [])]
    assert len(sources) == 1, f"expected one cell tagged {tag!r}, found {len(sources)}"
    return sources[0]


def run_cells(*tags, **names):
    """Run the tagged cells, in order, in a namespace that holds the notebook's imports and ``names``."""
    namespace = {"keras": keras, "layers": layers, "np": np, "plt": plt, "time": time, "utils": utils, "SEED": 42,
                 "Path": Path, "REUSE_SAVED_MODELS": False, **names}
    with contextlib.redirect_stdout(io.StringIO()):
        for tag in tags:
            exec(compile(cell(tag), f"<cell {tag}>", "exec"), namespace)  # the notebook's own code
    plt.close("all")
    return namespace


@pytest.mark.parametrize(("tag", "name", "builder"), [
    ("autoencoder-model", "autoencoder", utils.build_autoencoder),
    ("keras-io-model", "baseline", utils.build_baseline_autoencoder),
    ("unet-model", "unet", utils.build_unet),
    ("residual-model", "residual", utils.build_residual_denoiser),
])
def test_the_notebooks_models_are_the_models_of_utils(tag, name, builder):
    written_out = run_cells(tag)[name]
    keras.utils.set_random_seed(42)
    built = builder()
    assert written_out.get_config() == built.get_config()
    # Same layers in the same order, so the same seed gives the same initial weights too.
    for mine, theirs in zip(written_out.get_weights(), built.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_the_notebooks_training_loop_trains_what_train_denoiser_trains(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the cell saves its run under models/
    rng = np.random.default_rng(0)
    train_images = (rng.random((96, 28, 28, 1)) > 0.8).astype(np.float32)
    validation_images = (rng.random((16, 28, 28, 1)) > 0.8).astype(np.float32)
    settings = {"NOISE_KIND": "gaussian", "NOISE_LEVEL": 0.5, "BATCH_SIZE": 32, "LEARNING_RATE": 4e-3, "num_epochs": 2,
                "train_images": train_images, "validation_images": validation_images}
    notebook = run_cells("autoencoder-model", "autoencoder-compile", "autoencoder-training", **settings)
    keras.utils.set_random_seed(42)
    packaged = utils.build_autoencoder()
    history = utils.train_denoiser(packaged, train_images, noise_kind="gaussian", noise_level=0.5, epochs=2,
                                   batch_size=32, learning_rate=4e-3, validation_data=(notebook["noisy_validation_images"],
                                                                   validation_images), seed=42, verbose=0)
    for name in ("loss", "psnr", "val_loss", "val_psnr"):
        np.testing.assert_allclose(notebook["history"][name], history.history[name], rtol=1e-6)
    for mine, theirs in zip(notebook["autoencoder"].get_weights(), packaged.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)
    # The same optimizer, loss and learning-rate schedule too.
    configs = [{**model.optimizer.get_config(), "name": "adam"} for model in (notebook["autoencoder"], packaged)]
    assert configs[0] == configs[1]
    assert utils.keras_loss(notebook["autoencoder"].loss) == packaged.loss
    assert notebook["autoencoder"].steps_per_execution == utils.STEPS_PER_EXECUTION  # 1 under PyTorch


@pytest.fixture
def a_machine_without_proc_cpuinfo(monkeypatch):
    """Simulate macOS, Windows or an ARM board: /proc/cpuinfo cannot be read, and the CPU is aarch64."""
    real_open, real_read_text = builtins.open, pathlib.Path.read_text

    def no_cpuinfo(path, *arguments, **keywords):
        if str(path) == "/proc/cpuinfo":
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real_open(path, *arguments, **keywords)

    monkeypatch.setattr(builtins, "open", no_cpuinfo)
    monkeypatch.setattr(pathlib.Path, "read_text",
                        lambda path, *a, **k: no_cpuinfo(path) if str(path) == "/proc/cpuinfo" else real_read_text(path, *a, **k))
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    monkeypatch.setattr(platform, "processor", lambda: "")
    with pytest.raises(FileNotFoundError):
        pathlib.Path("/proc/cpuinfo").read_text()


def test_the_notebooks_helpers_run_without_proc_cpuinfo(a_machine_without_proc_cpuinfo, tmp_path):
    # Every kind of helper the notebook calls, on a machine that has no /proc/cpuinfo.
    clean = np.zeros((8, 28, 28, 1), np.float32)
    clean[:, 8:20, 12:16] = 1.0
    noisy = utils.add_noise(clean, "gaussian", 0.5, seed=0)
    keras.utils.set_random_seed(0)
    model = utils.build_unet(filters=(4, 8, 8))
    utils.train_denoiser(model, clean, epochs=1, checkpoint_path=tmp_path / "unet.keras", verbose=0)
    assert utils.load_denoiser(tmp_path / "unet.keras").count_params() == model.count_params()
    restored = model.predict(noisy, verbose=0)
    assert np.isfinite([utils.mse(clean, restored).mean(), utils.psnr(clean, restored).mean(),
                        utils.ssim(clean, restored).mean()]).all()
    assert utils.classical_denoise(noisy, "median", 3).shape == clean.shape
    assert utils.denoise_image(model, noisy[0, :27, :25, 0]).shape == (27, 25)


def test_no_cell_reads_the_cpu():
    code = "\n".join("".join(cell["source"]) for cell in NOTEBOOK["cells"] if cell["cell_type"] == "code")
    for machinery in ("cpuinfo", "cpu_peak", "count_flops", "hardware", "onednn_enabled", "bfloat16", "os.dup2"):
        assert machinery not in code, f"the notebook's reader path uses {machinery}"


def test_the_reload_check_runs_and_catches_a_model_that_changed_on_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the cell saves into models/ under the working folder
    keras.utils.set_random_seed(0)
    model = utils.build_autoencoder(filters=(4, 4, 4))
    names = {"autoencoder": model, "NOISE_KIND": "gaussian", "NOISE_LEVEL": 0.5, "train_images": np.zeros((3, 28, 28, 1)),
             "noisy_validation_images": np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)}
    assert run_cells("reload-check", **names)["identical"]  # it always runs, whichever epoch was the best
    load = utils.load_denoiser

    def load_another_model(path, **keywords):  # a file that no longer holds the model in memory
        changed = load(path, **keywords)
        changed.set_weights([weights + 0.01 for weights in changed.get_weights()])
        return changed

    monkeypatch.setattr(utils, "load_denoiser", load_another_model)
    with pytest.raises(AssertionError, match="the reloaded model predicts differently"):
        run_cells("reload-check", **names)


def printed_by(tag, **names):
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(cell(tag), f"<cell {tag}>", "exec"), {"np": np, "utils": utils, **names})
    return output.getvalue()


def part_1_names(denoised_psnr, **changes):
    """What the part-1 checks read: a noisy input at 9.4 dB, the autoencoder, and the parameters."""
    scores = {"noisy input": {"PSNR": np.array([9.4]), "SSIM": np.array([0.40])},
              "our autoencoder": {"PSNR": np.array([denoised_psnr]), "SSIM": np.array([0.82])}}
    return {"scores": scores, "train_images": np.zeros((utils.QUICK_DEFAULTS["TRAIN_SIZE"], 1)),
            **utils.QUICK_DEFAULTS, "QUICK_MODE": True, **changes}


def test_the_part_1_checks_report_what_got_worse_and_what_was_changed():
    assert printed_by("part-1-checks", **part_1_names(18.5)) == "All quality checks passed.\n"
    # A learner's experiment: one epoch instead of four. The cell says what got worse, by how much and
    # what was changed, and raises nothing, so "Run all" goes on; nbval sees another output and fails.
    report = printed_by("part-1-checks", **part_1_names(15.4, NUM_EPOCHS=1))
    assert report.startswith("Quality check failed: 1 of 3 measurements")
    assert "the autoencoder's PSNR gain (dB): 6.00, expected more than 8.00 (2.00 short)" in report
    assert "You changed: NUM_EPOCHS = 1 (default 4)." in report


def test_the_part_1_checks_name_a_changed_loss_and_apply_the_full_run_floors():
    keras.utils.set_random_seed(0)
    model = utils.build_autoencoder(filters=(4, 4, 4))
    model.compile(loss="mean_squared_error")
    full_run = {**part_1_names(19.0), **utils.DEFAULTS, "QUICK_MODE": False,
                "train_images": np.zeros((utils.DEFAULTS["TRAIN_SIZE"], 1)), "autoencoder": model}
    report = printed_by("part-1-checks", **full_run)
    assert "the autoencoder's PSNR (dB), full run: 19.00, expected more than" in report
    assert f"the autoencoder has {model.count_params():,} parameters (default 128,401)" in report
    assert "the autoencoder's loss is 'mean_squared_error' (default 'binary_crossentropy')" in report


NETWORKS = {"keras.io baseline": 19.8, "our autoencoder": 20.6, "U-Net": 20.9, "residual (DnCNN-style)": 20.3}


def chapter_names(**changes):
    """What the chapters' checks read, from a working run: the noisy input at 9.4 dB, four networks, a filter, the
    experiment models and the photo U-Net on noisy test photos at 20.3 dB."""
    import pandas as pd

    cross = pd.DataFrame(25.0, index=["gaussian 0.5", "salt_and_pepper 0.2", "speckle 1.0", "poisson 1.0",
                                      "noisy input"], columns=list(utils.NOISE_KINDS))
    cross.loc["noisy input"] = [9.4, 10.2, 15.6, 13.3]
    names = {"learned_models": dict.fromkeys(NETWORKS), "psnr_of": pd.Series(NETWORKS), "noisy_psnr": 9.4,
             "scores": {"our autoencoder": {"PSNR": np.array([20.6])}}, "our_psnr": 20.6, "best_classical_psnr": 14.2,
             "cross_psnr": cross, "cross_names": {name: name.split()[0] for name in cross.index[:4]},
             "unclipped_psnr": 18.3, "clipped_psnr": 13.1, "clean_target_psnr": 18.4,
             "noisy_experiment_psnr": 9.4, "experiment_test_images": np.zeros((4, 28, 28, 1), np.float32),
             "noisy_experiment_images": np.full((4, 28, 28, 1), 0.34, np.float32),
             "noisy_photo_psnr": 20.3, "photo_unet_psnr": 26.0, "best_filter_psnr": 31.8, "full_data_run": False}
    return {**names, **changes}


CHAPTER_CHECKS = ("architecture-checks", "filter-checks", "robustness-checks", "noise2noise-checks", "photo-checks")


@pytest.mark.parametrize("tag", CHAPTER_CHECKS)
def test_each_chapters_checks_pass_on_a_working_run(tag):
    assert printed_by(tag, **chapter_names()) == "All quality checks passed.\n"


def test_the_architecture_checks_fail_when_any_network_falls_behind():
    # The best network alone doing well is not enough: each network must gain over the noisy input.
    report = printed_by("architecture-checks", **chapter_names(psnr_of=__import__("pandas").Series(
        {**NETWORKS, "keras.io baseline": 15.9})))
    assert report.startswith("Quality check failed: 1 of ")
    assert "keras.io baseline: PSNR gain over the noisy input (dB): 6.50, expected more than 7.00" in report
    assert "You changed no parameter" in report


def test_the_filter_checks_fail_when_the_autoencoder_no_longer_clearly_beats_the_filter():
    report = printed_by("filter-checks", **chapter_names(our_psnr=15.0))
    assert "our autoencoder's lead over the best filter (dB): 0.80, expected more than 2.00" in report


def test_the_photo_checks_fail_when_the_photo_unet_no_longer_clearly_beats_the_noisy_photos():
    report = printed_by("photo-checks", **chapter_names(photo_unet_psnr=22.0), PHOTO_EPOCHS=1)
    assert report.startswith("Quality check failed: 1 of ")
    assert "the photo U-Net's gain over the noisy test photos (dB): 1.70, expected more than 3.00" in report
    assert "You changed: PHOTO_EPOCHS = 1 (default 14)." in report


def test_the_noise2noise_checks_fail_when_clipping_no_longer_hurts():
    report = printed_by("noise2noise-checks", **chapter_names(clipped_psnr=17.9))
    assert "Noise2Noise: unclipped over clipped targets (dB): 0.40, expected more than 2.00" in report


@pytest.mark.parametrize("quick", [False, True])
def test_the_defaults_that_changes_are_measured_from_are_the_parameters_cell(monkeypatch, quick):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("DENOISING_QUICK", "1" if quick else "0")
    namespace = {"os": __import__("os")}
    exec(compile(cell("parameters"), "<cell parameters>", "exec"), namespace)
    assert namespace["QUICK_MODE"] is quick
    parameters = {name: value for name, value in namespace.items() if name.isupper() and name != "QUICK_MODE"}
    assert parameters == (utils.QUICK_DEFAULTS if quick else utils.DEFAULTS)
    assert utils.changed_settings(namespace) == []


def test_running_the_training_cell_again_says_so_and_trains_no_further(tmp_path, monkeypatch):
    """A learner runs the training cell twice: the schedule is spent, so a second pass would train at learning rate 0.
    The cell says what it did instead, and leaves the weights as they were."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    settings = {"NOISE_KIND": "gaussian", "NOISE_LEVEL": 0.5, "BATCH_SIZE": 32, "LEARNING_RATE": 4e-3, "num_epochs": 2,
                "train_images": (rng.random((64, 28, 28, 1)) > 0.8).astype(np.float32),
                "validation_images": (rng.random((16, 28, 28, 1)) > 0.8).astype(np.float32)}
    namespace = run_cells("autoencoder-model", "autoencoder-compile", "autoencoder-training", **settings)
    weights = namespace["autoencoder"].get_weights()
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(cell("autoencoder-training"), "<cell autoencoder-training>", "exec"), namespace)
    assert output.getvalue().startswith("Already trained for 2 epochs")
    assert len(namespace["history"]["loss"]) == 2
    for before, after in zip(weights, namespace["autoencoder"].get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_train_denoiser_says_when_it_goes_on_from_trained_weights(capsys):
    """A part-2 training cell run twice trains the same model again: train_denoiser says so."""
    images = np.zeros((16, 28, 28, 1), np.float32)
    keras.utils.set_random_seed(0)
    model = utils.build_autoencoder(filters=(2, 2, 2))
    utils.train_denoiser(model, images, epochs=1, verbose=0)
    assert "trained before" not in capsys.readouterr().out
    utils.train_denoiser(model, images, epochs=1, verbose=0)
    assert "was trained before, so this call goes on from its trained weights" in capsys.readouterr().out
