"""Tests for saving, reloading and resuming models, and for run-to-run determinism."""

import json
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import utils


@pytest.fixture(scope="module")
def digit_like_images():
    """64 small bright blobs on black, like digits: float32 (64, 28, 28, 1) in [0, 1]."""
    rng = np.random.default_rng(0)
    images = np.zeros((64, 28, 28, 1), dtype=np.float32)
    for image in images:
        top, left = rng.integers(4, 16, size=2)
        image[top:top + 8, left:left + 8] = 1.0
    return images


def small_model(seed=0):
    keras.utils.set_random_seed(seed)
    return utils.build_autoencoder((28, 28, 1), filters=(4, 8, 8))


def train(model, images, **kwargs):
    kwargs.setdefault("epochs", 2)
    return utils.train_denoiser(model, images, batch_size=32, seed=3, verbose=0, **kwargs)


# --------------------------------------------------------------------------
# Save and load
# --------------------------------------------------------------------------


@pytest.mark.parametrize("builder", [utils.build_autoencoder, utils.build_baseline_autoencoder,
                                     utils.build_unet, utils.build_residual_denoiser])
def test_save_and_safe_load_round_trip_gives_identical_predictions(builder, tmp_path, digit_like_images):
    keras.utils.set_random_seed(1)
    model = builder()
    train(model, digit_like_images[:32], epochs=1)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = utils.load_denoiser(path)
    noisy = utils.add_noise(digit_like_images[:8], "gaussian", 0.5, seed=0)
    np.testing.assert_array_equal(loaded.predict(noisy, verbose=0), model.predict(noisy, verbose=0))
    # The optimizer state comes back too, so training can go on where it stopped.
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) == 1


def test_load_denoiser_refuses_missing_truncated_and_corrupt_files(tmp_path, digit_like_images):
    model = small_model()
    path = tmp_path / "model.keras"
    model.save(path)
    with pytest.raises(ValueError, match="does not exist"):
        utils.load_denoiser(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match="path must be a file name ending in .keras"):
        utils.load_denoiser(tmp_path / "model.h5")
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a Keras archive"):
        utils.load_denoiser(truncated)
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"this is not a model" * 100)
    with pytest.raises(ValueError, match="not a Keras archive"):
        utils.load_denoiser(garbage)
    # A valid zip whose weights file is damaged: the archive opens, the load fails.
    broken = tmp_path / "broken.keras"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data[:100] if name.endswith(".h5") else data)
    with pytest.raises(ValueError, match="could not be loaded safely"):
        utils.load_denoiser(broken)


def test_load_denoiser_refuses_models_that_do_not_fit_mnist(tmp_path):
    keras.utils.set_random_seed(0)
    cases = {
        "colour.keras": utils.build_autoencoder((32, 32, 1)),  # fixed 32x32 input
        "stride.keras": keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(1, 3, strides=8)]),
    }
    rgb_inputs = keras.Input((None, None, 3))
    cases["rgb.keras"] = keras.Model(rgb_inputs, keras.layers.Conv2D(3, 3, padding="same")(rgb_inputs))
    flat_inputs = keras.Input((28, 28, 1))
    cases["classifier.keras"] = keras.Model(
        flat_inputs, keras.layers.Dense(10)(keras.layers.Flatten()(flat_inputs))
    )
    for name, model in cases.items():
        model.save(tmp_path / name)
        with pytest.raises(ValueError, match="cannot denoise images of shape|must return images"):
            utils.load_denoiser(tmp_path / name)
    # The 32x32 model is fine for 32x32 images.
    assert utils.load_denoiser(tmp_path / "colour.keras", image_shape=(32, 32, 1)).input_shape == (None, 32, 32, 1)


def test_load_denoiser_refuses_lambda_layers_in_safe_mode(tmp_path):
    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, keras.layers.Lambda(lambda images: 1.0 - images)(inputs))
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="could not be loaded safely"):
        utils.load_denoiser(tmp_path / "lambda.keras")


def test_tutorial_models_use_no_lambda_layers():
    for builder in (utils.build_autoencoder, utils.build_baseline_autoencoder, utils.build_unet,
                    utils.build_residual_denoiser):
        assert not any(isinstance(layer, keras.layers.Lambda) for layer in builder().layers)


# --------------------------------------------------------------------------
# Checkpoints and resuming
# --------------------------------------------------------------------------


def saved_state(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(utils.CHECKPOINT_STATE))


def test_every_epoch_is_saved_in_one_file_with_its_state(tmp_path, digit_like_images):
    path = tmp_path / "models" / "autoencoder.keras"
    model = small_model()
    history = train(model, digit_like_images, epochs=3, checkpoint_path=path)
    state = saved_state(path)
    # Finished means every epoch was done, whichever epoch scored best: the file holds the last one.
    assert state["epochs_done"] == 3 and state["settings"]["epochs"] == 3
    assert state["history"]["loss"] == pytest.approx(history.history["loss"])
    assert sorted(path.parent.iterdir()) == [path]  # no temporary file left behind, no second file
    probe = digit_like_images[:4]
    np.testing.assert_array_equal(utils.load_denoiser(path).predict(probe, verbose=0), model.predict(probe, verbose=0))


class Interrupted(Exception):
    """Stands for a kernel interrupt in the middle of training."""


def test_resuming_continues_after_the_saved_epoch_and_ends_like_an_uninterrupted_run(
        tmp_path, digit_like_images, monkeypatch):
    uninterrupted = small_model()
    full_history = train(uninterrupted, digit_like_images, epochs=3)

    path = tmp_path / "autoencoder.keras"
    save = utils._save_checkpoint

    def save_then_stop(model, checkpoint_path, state):  # interrupted right after epoch 1 was saved
        save(model, checkpoint_path, state)
        raise Interrupted

    monkeypatch.setattr(utils, "_save_checkpoint", save_then_stop)
    with pytest.raises(Interrupted):
        train(small_model(), digit_like_images, epochs=3, checkpoint_path=path)
    monkeypatch.setattr(utils, "_save_checkpoint", save)
    assert saved_state(path)["epochs_done"] == 1

    resumed = small_model(seed=99)  # other initial weights: the checkpoint's must replace them
    fitted_epochs = []
    fit = keras.Model.fit
    monkeypatch.setattr(keras.Model, "fit", lambda model, *a, **k: fitted_epochs.append(1) or fit(model, *a, **k))
    history = train(resumed, digit_like_images, epochs=3, checkpoint_path=path, resume=True)
    assert len(fitted_epochs) == 2  # only the epochs that were left
    assert len(history.history["loss"]) == 3 and saved_state(path)["epochs_done"] == 3
    np.testing.assert_allclose(history.history["loss"], full_history.history["loss"], rtol=1e-5)
    probe = digit_like_images[:8]
    np.testing.assert_allclose(resumed.predict(probe, verbose=0), uninterrupted.predict(probe, verbose=0), atol=1e-5)


def test_a_finished_checkpoint_is_loaded_without_training(tmp_path, digit_like_images, capsys, monkeypatch):
    path = tmp_path / "autoencoder.keras"
    trained = small_model()
    train(trained, digit_like_images, checkpoint_path=path)
    reused = small_model(seed=5)
    monkeypatch.setattr(keras.Model, "fit", lambda *arguments, **keywords: pytest.fail("a finished run trained"))
    history = utils.train_denoiser(reused, digit_like_images, epochs=2, batch_size=32, seed=3, checkpoint_path=path,
                                   resume=True)
    assert "Loaded autoencoder.keras: it holds 2 of 2 epochs." in capsys.readouterr().out
    assert int(reused.optimizer.iterations.numpy()) == 4  # 2 epochs x 2 steps, all loaded
    assert len(history.history["loss"]) == 2
    probe = digit_like_images[:4]
    np.testing.assert_array_equal(reused.predict(probe, verbose=0), trained.predict(probe, verbose=0))


@pytest.mark.parametrize(("change", "difference"), [
    ({"noise_level": 0.3}, "noise_level was 0.5, now 0.3"),
    ({"learning_rate": 1e-3}, "learning_rate was 0.004, now 0.001"),
    ({"loss": "mean_squared_error"}, "loss was 'binary_crossentropy', now 'mean_squared_error'"),
    ({"epochs": 3}, "epochs was 2, now 3"),
    ({"seed": 4}, "seed was 3, now 4"),
])
def test_resume_refuses_a_checkpoint_trained_with_other_settings(tmp_path, digit_like_images, change, difference):
    path = tmp_path / "autoencoder.keras"
    train(small_model(), digit_like_images, checkpoint_path=path)
    arguments = {"epochs": 2, "batch_size": 32, "seed": 3, "verbose": 0, **change}
    with pytest.raises(ValueError, match=f"other settings: {re.escape(difference)}"):
        utils.train_denoiser(small_model(), digit_like_images, checkpoint_path=path, resume=True, **arguments)


def test_resume_refuses_other_images_and_architectures_and_resume_false_overwrites(tmp_path, digit_like_images):
    path = tmp_path / "autoencoder.keras"
    train(small_model(), digit_like_images, checkpoint_path=path)
    with pytest.raises(ValueError, match="other settings: images was 64, now 32"):
        train(small_model(), digit_like_images[:32], checkpoint_path=path, resume=True)
    keras.utils.set_random_seed(0)
    with pytest.raises(ValueError, match="other settings: parameters was"):
        train(utils.build_autoencoder((28, 28, 1)), digit_like_images, checkpoint_path=path, resume=True)
    # resume=False (the default) starts over and overwrites the checkpoint.
    train(small_model(), digit_like_images, epochs=1, checkpoint_path=path)
    assert saved_state(path)["epochs_done"] == 1


def test_resume_refuses_a_file_that_is_not_a_checkpoint(tmp_path, digit_like_images):
    path = tmp_path / "autoencoder.keras"
    small_model().save(path)  # a model, but no training state
    with pytest.raises(ValueError, match="holds no training state written by train_denoiser"):
        train(small_model(), digit_like_images, checkpoint_path=path, resume=True)
    path.write_bytes(b"truncated")
    with pytest.raises(ValueError, match="not a Keras archive"):
        train(small_model(), digit_like_images, checkpoint_path=path, resume=True)
    with pytest.raises(ValueError, match="checkpoint_path must be a file name ending in .keras"):
        train(small_model(), digit_like_images, checkpoint_path=tmp_path / "model.h5")
    # A folder used to train a whole epoch, then fail with IsADirectoryError and leave a .partial file.
    (tmp_path / "folder.keras").mkdir()
    with pytest.raises(ValueError, match="checkpoint_path must be the path of a file, not a folder"):
        train(small_model(), digit_like_images, checkpoint_path=tmp_path / "folder.keras")
    assert not list(tmp_path.glob("*.partial*"))


# Each child trains 2 epochs with a checkpoint and is killed (SIGKILL: no clean-up runs) at one step of
# the second epoch's save. Steps: the model written to the temporary file; the state half appended to it;
# the temporary file complete but not renamed; renamed into place. One process starts TensorFlow (most of
# the cost) and forks a child per step; TensorFlow starts no thread before its first operation, so forking
# after the import is safe. The parent prints each child's exit status.
KILLED_WRITERS = """
import json, os, signal, sys, zipfile
import keras, numpy as np
sys.path.insert(0, {root!r})
import utils
statuses = {{}}
for step, path in {runs!r}.items():
    child = os.fork()
    if child:
        statuses[step] = os.waitpid(child, 0)[1]
        continue
    saves = []

    def kill_at(name):
        if len(saves) == 2 and name == step:
            os.kill(os.getpid(), signal.SIGKILL)

    save, writestr, replace = keras.Model.save, zipfile.ZipFile.writestr, os.replace
    def model_save(model, path, *a, **k):
        saves.append(path); save(model, path, *a, **k); kill_at("model written")
    def state_write(archive, name, data, *a, **k):
        if len(saves) == 2 and step == "state half written" and name == utils.CHECKPOINT_STATE:
            archive.fp.write(data.encode()[: len(data) // 2]); archive.fp.flush(); kill_at(step)
        writestr(archive, name, data, *a, **k)
    def rename(source, target):
        kill_at("not renamed"); replace(source, target); kill_at("renamed")
    keras.Model.save, zipfile.ZipFile.writestr, os.replace = model_save, state_write, rename
    try:
        images = np.load({images!r})
        keras.utils.set_random_seed(0)
        model = utils.build_autoencoder((28, 28, 1), filters=(4, 8, 8))
        utils.train_denoiser(model, images, epochs=2, batch_size=32, seed=3, verbose=0, checkpoint_path=path)
    except BaseException:
        import traceback; traceback.print_exc()
    finally:
        os._exit(0)  # never run the parent's loop in a child
print(json.dumps({{step: os.waitstatus_to_exitcode(status) for step, status in statuses.items()}}))
"""


KILL_STEPS = ("model written", "state half written", "not renamed", "renamed")


@pytest.fixture(scope="module")
def killed_writers(tmp_path_factory, digit_like_images):
    """{step: (checkpoint path, the child's exit code, what it wrote to stderr)}."""
    folder = tmp_path_factory.mktemp("killed")
    images_file = folder / "images.npy"
    np.save(images_file, digit_like_images)
    runs = {}
    for index, step in enumerate(KILL_STEPS):
        runs[step] = str(folder / f"run_{index}" / "autoencoder.keras")
        Path(runs[step]).parent.mkdir()
    code = KILLED_WRITERS.format(root=str(ROOT), runs=runs, images=str(images_file))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    return {step: (Path(runs[step]), codes[step], done.stderr[-2000:]) for step in KILL_STEPS}


@pytest.fixture(scope="module")
def uninterrupted_predictions(digit_like_images):
    uninterrupted = small_model()
    train(uninterrupted, digit_like_images)
    return uninterrupted.predict(digit_like_images[:8], verbose=0)


@pytest.mark.parametrize("step", KILL_STEPS)
def test_a_writer_killed_at_any_step_leaves_a_checkpoint_that_resumes(killed_writers, uninterrupted_predictions,
                                                                      digit_like_images, step):
    path, returncode, errors = killed_writers[step]
    assert returncode == -signal.SIGKILL, errors
    assert saved_state(path)["epochs_done"] == (2 if step == "renamed" else 1)  # whole, old or new
    # The resumed run ignores (and later overwrites) any half-written temporary file, and ends where an
    # uninterrupted run ends.
    resumed = small_model(seed=5)
    train(resumed, digit_like_images, checkpoint_path=path, resume=True)
    assert saved_state(path)["epochs_done"] == 2 and not list(path.parent.glob("*.partial*"))
    np.testing.assert_allclose(resumed.predict(digit_like_images[:8], verbose=0), uninterrupted_predictions,
                               atol=1e-5)


# --------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------


def test_two_runs_with_the_same_seed_give_the_same_metrics_to_1e_6(digit_like_images):
    def run():
        model = small_model(seed=7)
        validation = (utils.add_noise(digit_like_images[:16], seed=1), digit_like_images[:16])
        history = train(model, digit_like_images, validation_data=validation)
        noisy = utils.add_noise(digit_like_images, "gaussian", 0.5, seed=11)
        restored = model.predict(noisy, verbose=0)
        return [*history.history["loss"], *history.history["val_psnr"],
                utils.mse(digit_like_images, restored).mean(), utils.psnr(digit_like_images, restored).mean(),
                utils.ssim(digit_like_images, restored).mean()]

    first, second = run(), run()
    np.testing.assert_allclose(first, second, rtol=0, atol=1e-6)
