"""Tests for saving, reloading and resuming models, and for run-to-run determinism."""

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import utils  # noqa: E402


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
    with pytest.raises(ValueError, match="must end in .keras"):
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
    import zipfile

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
        with pytest.raises(ValueError, match="cannot denoise images of shape|must output images"):
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


def test_checkpoint_is_written_after_each_improving_epoch(tmp_path, digit_like_images):
    path = tmp_path / "models" / "autoencoder.keras"
    history = train(small_model(), digit_like_images, checkpoint_path=path, validation_images=digit_like_images[:16])
    state = json.loads(path.with_suffix(".json").read_text())
    assert path.is_file() and state["monitor"] == "val_loss"
    best_epoch = int(np.argmin(history.history["val_loss"])) + 1
    assert state["epochs_done"] == best_epoch
    assert state["history"]["val_loss"] == pytest.approx(history.history["val_loss"][:best_epoch])
    assert not list(path.parent.glob("*.partial*"))  # the temporary files were renamed into place


def test_resuming_continues_from_the_saved_epoch_and_ends_like_an_uninterrupted_run(tmp_path, digit_like_images):
    uninterrupted = small_model()
    full_history = train(uninterrupted, digit_like_images, epochs=3)

    path = tmp_path / "autoencoder.keras"
    train(small_model(), digit_like_images, epochs=1, checkpoint_path=path)  # "interrupted" after epoch 1
    assert json.loads(path.with_suffix(".json").read_text())["epochs_done"] == 1
    resumed = small_model(seed=99)  # other initial weights: they must be replaced by the checkpoint's
    seen_epochs = []

    class EpochSpy(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen_epochs.append(epoch)

    resumed_fit = resumed.fit

    def spy_fit(*args, **kwargs):
        return resumed_fit(*args, **{**kwargs, "callbacks": kwargs["callbacks"] + [EpochSpy()]})

    resumed.fit = spy_fit
    history = train(resumed, digit_like_images, epochs=3, checkpoint_path=path)
    assert seen_epochs == [1, 2]  # only the epochs that were left
    assert len(history.history["loss"]) == 3
    np.testing.assert_allclose(history.history["loss"], full_history.history["loss"], rtol=1e-5)
    probe = digit_like_images[:8]
    np.testing.assert_allclose(resumed.predict(probe, verbose=0), uninterrupted.predict(probe, verbose=0), atol=1e-5)


def test_a_finished_checkpoint_is_reused_without_training(tmp_path, digit_like_images, capsys):
    path = tmp_path / "autoencoder.keras"
    trained = small_model()
    train(trained, digit_like_images, checkpoint_path=path)
    reused = small_model(seed=5)
    history = utils.train_denoiser(reused, digit_like_images, epochs=2, batch_size=32, seed=3, checkpoint_path=path)
    assert "nothing left to train" in capsys.readouterr().out
    assert int(reused.optimizer.iterations.numpy()) == 4  # 2 epochs x 2 steps, all loaded
    assert len(history.history["loss"]) == 2
    probe = digit_like_images[:4]
    np.testing.assert_array_equal(reused.predict(probe, verbose=0), trained.predict(probe, verbose=0))


def test_resume_refuses_other_settings_architectures_and_more_epochs(tmp_path, digit_like_images):
    path = tmp_path / "autoencoder.keras"
    train(small_model(), digit_like_images, checkpoint_path=path)
    with pytest.raises(ValueError, match="other settings.*noise_level: saved 0.5, now 0.3"):
        train(small_model(), digit_like_images, checkpoint_path=path, noise_level=0.3)
    with pytest.raises(ValueError, match="other settings.*num_images"):
        train(small_model(), digit_like_images[:32], checkpoint_path=path)
    keras.utils.set_random_seed(0)
    with pytest.raises(ValueError, match="other settings.*parameters"):
        train(utils.build_autoencoder((28, 28, 1)), digit_like_images, checkpoint_path=path)
    with pytest.raises(ValueError, match="trained for 2 epochs, more than the 1 asked for"):
        train(small_model(), digit_like_images, epochs=1, checkpoint_path=path)
    # resume=False starts over and overwrites the checkpoint.
    train(small_model(), digit_like_images, epochs=1, checkpoint_path=path, resume=False)
    assert json.loads(path.with_suffix(".json").read_text())["epochs_done"] == 1


def test_resume_refuses_a_checkpoint_without_or_with_a_corrupt_or_stale_state_file(tmp_path, digit_like_images):
    path = tmp_path / "autoencoder.keras"
    train(small_model(), digit_like_images, epochs=1, checkpoint_path=path)
    state_file = path.with_suffix(".json")
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**state, "optimizer_iterations": 99}))
    with pytest.raises(ValueError, match="disagree on how many steps"):
        train(small_model(), digit_like_images, checkpoint_path=path)
    state_file.write_text("{not json")
    with pytest.raises(ValueError, match="is corrupt"):
        train(small_model(), digit_like_images, checkpoint_path=path)
    state_file.unlink()
    with pytest.raises(ValueError, match="no state file"):
        train(small_model(), digit_like_images, checkpoint_path=path)
    path.write_bytes(b"truncated")
    state_file.write_text(json.dumps(state))
    with pytest.raises(ValueError, match="not a Keras archive"):
        train(small_model(), digit_like_images, checkpoint_path=path)
    with pytest.raises(ValueError, match="must end in .keras"):
        train(small_model(), digit_like_images, checkpoint_path=tmp_path / "model.h5")


# --------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------


def test_two_runs_with_the_same_seed_give_the_same_metrics_to_1e_6(digit_like_images):
    def run():
        model = small_model(seed=7)
        history = train(model, digit_like_images, validation_images=digit_like_images[:16])
        noisy = utils.add_noise(digit_like_images, "gaussian", 0.5, seed=11)
        restored = model.predict(noisy, verbose=0)
        return [*history.history["loss"], *history.history["val_psnr"],
                utils.mse(digit_like_images, restored).mean(), utils.psnr(digit_like_images, restored).mean(),
                utils.ssim(digit_like_images, restored).mean()]

    first, second = run(), run()
    np.testing.assert_allclose(first, second, rtol=0, atol=1e-6)
