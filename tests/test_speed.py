"""Tests for the training-speed helpers: the input pipeline, FLOP counting, the CPU's peak and precision."""

import os
import platform
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import utils  # noqa: E402


def test_array_batches_keeps_order_and_sizes():
    inputs = np.arange(10 * 4, dtype=np.float32).reshape(10, 2, 2, 1)
    batches = list(utils.array_batches(inputs, inputs + 1, batch_size=4).as_numpy_iterator())
    assert [len(batch_inputs) for batch_inputs, _ in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([batch_inputs for batch_inputs, _ in batches]), inputs)
    np.testing.assert_array_equal(np.concatenate([targets for _, targets in batches]), inputs + 1)


def test_array_batches_rejects_bad_arguments():
    images = np.zeros((4, 2, 2, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="same shape"):
        utils.array_batches(images, images[:3], batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        utils.array_batches(images, images, batch_size=0)


def test_both_input_pipelines_train_the_same_model():
    rng = np.random.default_rng(0)
    images = (rng.random((48, 28, 28, 1)) > 0.7).astype(np.float32)
    results = []
    for pipeline in utils.INPUT_PIPELINES:
        keras.utils.set_random_seed(0)
        model = utils.build_autoencoder((28, 28, 1), filters=(4, 8, 8))
        history = utils.train_denoiser(model, images, epochs=2, batch_size=16, seed=1, validation_images=images[:8],
                                       input_pipeline=pipeline, verbose=0)
        assert len(history.history["fit_seconds"]) == 2 and min(history.history["fit_seconds"]) > 0
        results.append((history.history["loss"], history.history["val_loss"], model.predict(images[:4], verbose=0)))
    (loss_a, val_a, out_a), (loss_b, val_b, out_b) = results
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-5)
    np.testing.assert_allclose(val_a, val_b, rtol=1e-5)
    np.testing.assert_allclose(out_a, out_b, atol=1e-5)


def test_train_denoiser_rejects_an_unknown_input_pipeline():
    model = utils.build_autoencoder((28, 28, 1), filters=(4, 8, 8))
    with pytest.raises(ValueError, match="input_pipeline must be one of 'tf.data', 'numpy'"):
        utils.train_denoiser(model, np.zeros((4, 28, 28, 1), np.float32), epochs=1, input_pipeline="torch")


def test_count_flops_matches_a_hand_count():
    inputs = keras.Input((None, None, 1))
    features = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 8x8 x 4 outputs x 3*3*1 weights
    features = keras.layers.Conv2D(2, 3, strides=2, padding="same")(features)  # 4x4 x 2 x 3*3*4
    features = keras.layers.Conv2DTranspose(3, 2, strides=2)(features)  # 4x4 inputs x 2 channels x 2*2*3
    outputs = keras.layers.Conv2D(1, 1)(features)  # 8x8 x 1 x 1*1*3
    model = keras.Model(inputs, outputs)
    expected = 2 * (8 * 8 * 4 * 9 * 1 + 4 * 4 * 2 * 9 * 4 + 4 * 4 * 2 * 4 * 3 + 8 * 8 * 1 * 3)
    assert utils.count_flops(model, image_shape=(8, 8, 1)) == expected
    # Doubling each side quadruples the work of a fully convolutional model.
    assert utils.count_flops(model, image_shape=(16, 16, 1)) == 4 * expected


def test_count_flops_of_the_tutorial_models():
    flops = {builder.__name__: utils.count_flops(builder()) for builder in (
        utils.build_baseline_autoencoder, utils.build_autoencoder, utils.build_unet, utils.build_residual_denoiser)}
    # Worked out by hand for the autoencoder: 23.7 million FLOPs per 28x28 image.
    assert flops["build_autoencoder"] == 23_733_248
    assert flops["build_baseline_autoencoder"] < flops["build_residual_denoiser"] < flops["build_autoencoder"]
    assert flops["build_autoencoder"] < flops["build_unet"]
    with pytest.raises(ValueError, match="keras.Model"):
        utils.count_flops("model")
    with pytest.raises(ValueError, match="cannot denoise images of shape"):
        utils.count_flops(utils.build_autoencoder((32, 32, 1)))


def test_cpu_peak_is_cores_times_clock_times_flops_per_cycle():
    peak, details = utils.cpu_peak_gflops()
    if peak is None:
        pytest.skip(f"no peak on this platform: {details['how']}")
    assert peak == pytest.approx(details["cores"] * details["clock_ghz"] * details["flops_per_cycle"])
    assert details["flops_per_cycle"] in (8, 32, 64) and 0.2 < details["clock_ghz"] < 7
    assert f"{details['cores']} logical cores" in details["how"]


def test_set_precision_chooses_and_checks_the_policy():
    try:
        assert utils.set_precision(False) == "float32"
        assert utils.set_precision("auto") == ("mixed_bfloat16" if utils.bfloat16_supported() else "float32")
        assert utils.set_precision(True) == "mixed_bfloat16"
        model = utils.build_autoencoder((28, 28, 1), filters=(4, 8, 8))
        # Under mixed precision the last layer still computes in float32: predictions are float32 arrays.
        prediction = model.predict(np.zeros((2, 28, 28, 1), np.float32), verbose=0)
        assert prediction.dtype == np.float32
        assert model.get_layer("encoder_full").compute_dtype == "bfloat16"
        with pytest.raises(ValueError, match="mixed_bfloat16 must be 'auto', True or False"):
            utils.set_precision("yes")
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("setting", ["0", "1"])
def test_onednn_follows_the_variable_read_at_start_up(setting):
    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("TensorFlow's oneDNN switch applies to x86 builds")
    # TensorFlow reads the variable once, at import, so each setting needs its own process.
    code = "import utils; print(utils.onednn_enabled())"
    environment = {**os.environ, utils.ONEDNN_VARIABLE: setting, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=300, check=True)
    assert result.stdout.strip().splitlines()[-1] == str(setting == "1")


def test_onednn_default_depends_on_the_cpu_flags(monkeypatch):
    avx2_only = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n"
    monkeypatch.setattr(utils, "_read_cpuinfo", lambda: avx2_only)
    assert not utils.onednn_on_by_default()
    monkeypatch.setattr(utils, "_read_cpuinfo", lambda: avx2_only.replace("fma", "fma avx512_vnni"))
    assert utils.onednn_on_by_default()
    monkeypatch.setattr(utils, "_read_cpuinfo", lambda: None)
    assert not utils.onednn_on_by_default()
