"""Unit tests for the tutorial's second part: more noise kinds, stronger models, blind and mixture
training, Noise2Noise targets, classical filters and denoising any image. Grouped like utils.py."""

import sys
from pathlib import Path

import keras
import matplotlib
import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import utils  # noqa: E402

matplotlib.use("Agg")


def grey_images(value, count=8, side=64):
    """A batch of flat grey images, float32 (count, side, side, 1)."""
    return np.full((count, side, side, 1), value, dtype=np.float32)


# --------------------------------------------------------------------------
# Noise kinds
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", utils.NOISE_KINDS)
@pytest.mark.parametrize("shape", [(3, 28, 28, 1), (3, 28, 28), (2, 64, 40, 1)])
def test_every_kind_keeps_shape_dtype_and_range(kind, shape):
    images = np.random.default_rng(0).random(shape, dtype=np.float32)
    noisy = utils.add_noise(images, kind, 0.5, seed=1)
    assert noisy.shape == images.shape and noisy.dtype == np.float32
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    assert not np.array_equal(noisy, images)


@pytest.mark.parametrize("kind", utils.NOISE_KINDS)
def test_every_kind_is_reproducible_for_a_seed(kind):
    images = grey_images(0.4, count=3, side=28)
    first = utils.add_noise(images, kind, 0.3, seed=7)
    np.testing.assert_array_equal(first, utils.add_noise(images, kind, 0.3, seed=7))
    assert not np.array_equal(first, utils.add_noise(images, kind, 0.3, seed=8))


@pytest.mark.parametrize("kind", utils.NOISE_KINDS)
def test_every_kind_at_level_zero_changes_nothing(kind):
    images = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(utils.add_noise(images, kind, 0.0, seed=1), images, atol=1e-7)


@pytest.mark.parametrize("level", [0.05, 0.3, 0.8])
def test_salt_and_pepper_flips_the_requested_fraction_half_to_each_extreme(level):
    images = grey_images(0.5)  # 32,768 mid-grey pixels: every flip shows
    noisy = utils.add_noise(images, "salt_and_pepper", level, seed=3)
    flipped = noisy != 0.5
    assert np.all(np.isin(noisy[flipped], [0.0, 1.0]))
    assert abs(flipped.mean() - level) < 0.01
    assert abs((noisy[flipped] == 1.0).mean() - 0.5) < 0.03


def test_speckle_is_multiplicative_with_the_requested_standard_deviation():
    level = 0.2
    images = grey_images(0.3)  # 0.3 * (1 + 0.2 n) stays inside [0, 1] for |n| < 3.5
    noisy = utils.add_noise(images, "speckle", level, seed=4)
    relative_noise = noisy / 0.3 - 1.0
    assert abs(relative_noise.mean()) < 0.005
    assert abs(relative_noise.std() - level) < 0.005
    # Multiplicative: black pixels stay black.
    assert np.all(utils.add_noise(grey_images(0.0), "speckle", 0.9, seed=4) == 0.0)


def test_poisson_noise_has_mean_image_and_variance_image_times_level_squared():
    level = 0.25  # 16 photons at white
    for value in (0.25, 0.5):
        noisy = utils.add_noise(grey_images(value), "poisson", level, seed=5).astype(np.float64)
        assert abs(noisy.mean() - value) < 0.005
        assert abs(noisy.var() - value * level**2) < 0.1 * value * level**2
    # Photon counts are integers: the values sit on a grid of 1 / photons.
    noisy = utils.add_noise(grey_images(0.5), "poisson", level, seed=5)
    np.testing.assert_allclose(noisy * 16, np.round(noisy * 16), atol=1e-4)


def test_one_level_per_image():
    images = grey_images(0.5, count=4)
    noisy = utils.add_noise(images, "gaussian", np.array([0.0, 0.1, 0.0, 0.4]), seed=0)
    np.testing.assert_array_equal(noisy[[0, 2]], images[[0, 2]])
    assert 0.08 < noisy[1].std() < 0.12 and 0.3 < noisy[3].std()
    np.testing.assert_array_equal(noisy, utils.add_noise(images, "gaussian", np.array([0.0, 0.1, 0.0, 0.4]), seed=0))


@pytest.mark.parametrize(
    "kind, level, message",
    [
        ("salt_and_pepper", 1.5, "fraction of pixels"),
        ("speckle", -0.1, ">= 0"),
        ("poisson", float("nan"), "finite"),
        ("gaussian", np.array([0.1, 0.2]), "one value per image"),
        ("gaussian", np.zeros((2, 2)), "1-D"),
        ("gaussian", "0.5", "number"),
        ("blur", 0.5, "unknown noise kind"),
    ],
)
def test_add_noise_rejects_bad_kinds_and_levels(kind, level, message):
    with pytest.raises(ValueError, match=message):
        utils.add_noise(grey_images(0.5, count=3, side=28), kind, level, seed=0)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

NEW_BUILDERS = [utils.build_unet, utils.build_residual_denoiser]


@pytest.mark.parametrize("builder", NEW_BUILDERS)
@pytest.mark.parametrize("side", [28, 64])
def test_new_models_keep_the_image_shape_and_range(builder, side):
    model = builder()
    images = np.random.default_rng(0).random((2, side, side, 1), dtype=np.float32)
    restored = model.predict(images, verbose=0)
    assert restored.shape == images.shape
    assert restored.min() >= 0.0 and restored.max() <= 1.0


def test_models_are_fully_convolutional_with_fixed_shapes_too():
    model = utils.build_unet((64, 64, 1))
    assert model.output_shape == (None, 64, 64, 1)
    model = utils.build_residual_denoiser((30, 30, 1))  # no downsampling: any side works
    assert model.output_shape == (None, 30, 30, 1)


def test_unet_has_skip_connections_and_residual_model_starts_as_the_identity():
    unet = utils.build_unet()
    assert {"skip_half", "skip_full"} <= {layer.name for layer in unet.layers}
    residual = utils.build_residual_denoiser()
    images = np.random.default_rng(1).random((2, 28, 28, 1), dtype=np.float32)
    # The noise-predicting layer starts at zero, so before training output == input.
    np.testing.assert_allclose(residual.predict(images, verbose=0), images, atol=1e-6)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: utils.build_unet((30, 28, 1)), "multiple of 4"),
        (lambda: utils.build_unet(filters=(16, 32)), "3 positive integer"),
        (lambda: utils.build_unet((28, 28, 3)), "1 channel"),
        (lambda: utils.build_residual_denoiser(width=0), "width"),
        (lambda: utils.build_residual_denoiser(dilations=()), "dilations"),
        (lambda: utils.build_residual_denoiser(dilations=(1, 0)), "dilations"),
    ],
)
def test_new_builders_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_model_stride():
    assert utils.model_stride(utils.build_unet()) == 4
    assert utils.model_stride(utils.build_autoencoder()) == 4
    assert utils.model_stride(utils.build_baseline_autoencoder()) == 4
    assert utils.model_stride(utils.build_residual_denoiser()) == 1


# --------------------------------------------------------------------------
# Training: mixtures, blind levels, Noise2Noise
# --------------------------------------------------------------------------


def test_blind_training_copy_draws_one_level_per_image():
    images = grey_images(0.5, count=200, side=16)
    noisy = utils.noisy_training_copy(images, epoch=0, noise_level=(0.05, 0.3), seed=1)
    spread = (noisy - 0.5).reshape(200, -1).std(axis=1)
    assert spread.min() > 0.03 and spread.max() < 0.33
    assert spread.max() - spread.min() > 0.15  # different images got different levels
    np.testing.assert_array_equal(noisy, utils.noisy_training_copy(images, epoch=0, noise_level=(0.05, 0.3), seed=1))


def test_mixture_training_copy_uses_every_kind():
    images = grey_images(0.5, count=400, side=16)
    kinds = ("gaussian", "salt_and_pepper")
    noisy = utils.noisy_training_copy(images, epoch=0, noise_kind=kinds, noise_level=(0.1, 0.2), seed=2)
    flat = noisy.reshape(400, -1)
    salt_and_pepper = np.all(np.isin(flat, [0.0, 0.5, 1.0]), axis=1)
    assert 150 < salt_and_pepper.sum() < 250  # about half of the images each
    assert abs((flat[salt_and_pepper] != 0.5).mean() - 0.2) < 0.02  # at the level given for that kind


def test_noise2noise_targets_are_independent_noisy_copies():
    images = grey_images(0.5, count=4, side=16)
    inputs = utils.noisy_training_copy(images, epoch=3, seed=1)
    targets = utils.noisy_training_copy(images, epoch=3, seed=1, stream=1)
    unclipped = utils.noisy_training_copy(images, epoch=3, seed=1, stream=1, clip=False)
    assert abs(np.corrcoef((inputs - 0.5).ravel(), (targets - 0.5).ravel())[0, 1]) < 0.05
    assert unclipped.min() < 0.0 and unclipped.max() > 1.0
    np.testing.assert_allclose(np.clip(unclipped, 0, 1), targets, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"noise_level": (0.5, 0.1)}, "low <= high"),
        ({"noise_level": (0.1, 0.2, 0.3)}, "low, high"),
        ({"noise_kind": ("gaussian", "speckle"), "noise_level": (0.1, 0.2, 0.3)}, "one per kind"),
        ({"noise_kind": ("gaussian", "fog")}, "unknown noise kind"),
        ({"noise_kind": ()}, "non-empty"),
        ({"noise_kind": "speckle", "clip": False}, "only defined for Gaussian"),
        ({"stream": -1}, "stream"),
    ],
)
def test_noisy_training_copy_rejects_bad_mixtures(kwargs, message):
    with pytest.raises(ValueError, match=message):
        utils.noisy_training_copy(grey_images(0.5, count=2, side=8), epoch=0, **kwargs)


@pytest.fixture(scope="module")
def digit_like_images():
    """64 blurry-stroke images, 16x16, float32 in [0, 1]: quick to train on."""
    rng = np.random.default_rng(0)
    images = np.zeros((64, 16, 16, 1), dtype=np.float32)
    for image in images:
        row, column = rng.integers(3, 13, size=2)
        image[row - 2 : row + 2, :, 0] = 1.0 if rng.random() < 0.5 else 0.0
        image[:, column - 1 : column + 1, 0] = 1.0
    return images


@pytest.mark.parametrize(
    "kwargs",
    [
        {"targets": "noisy"},
        {"targets": "noisy", "clip_noisy_targets": False},
        {"noise_level": (0.1, 0.5)},
        {"noise_kind": utils.NOISE_KINDS, "noise_level": (0.5, 0.2, 0.5, 0.5)},
    ],
)
def test_train_denoiser_trains_blind_mixture_and_noise2noise_models(digit_like_images, kwargs):
    keras.utils.set_random_seed(0)
    model = utils.build_unet(filters=(4, 8, 8))
    history = utils.train_denoiser(
        model, digit_like_images, epochs=2, batch_size=16, validation_images=digit_like_images[:8], verbose=0, **kwargs
    )
    assert len(history.history["val_psnr"]) == 2
    assert np.all(np.isfinite(history.history["loss"]))


def test_train_denoiser_rejects_unknown_targets(digit_like_images):
    with pytest.raises(ValueError, match="targets"):
        utils.train_denoiser(utils.build_unet(), digit_like_images, epochs=1, targets="none")


# --------------------------------------------------------------------------
# Classical filters
# --------------------------------------------------------------------------


@pytest.mark.parametrize("method", list(utils.CLASSICAL_FILTERS))
def test_each_filter_on_a_tiny_image(method):
    clean = np.zeros((2, 16, 16, 1), dtype=np.float32)
    clean[:, 4:12, 6:10] = 1.0
    noisy = utils.add_noise(clean, "gaussian", 0.3, seed=0)
    strength = utils.CLASSICAL_FILTERS[method]["grid"][1]
    restored = utils.classical_denoise(noisy, method, strength)
    assert restored.shape == noisy.shape and restored.dtype == np.float32
    assert restored.min() >= 0.0 and restored.max() <= 1.0
    assert utils.psnr(clean, restored).mean() > utils.psnr(clean, noisy).mean() + 1.0
    # Each image is filtered on its own: filtering one alone gives the same result.
    np.testing.assert_allclose(utils.classical_denoise(noisy[1:], method, strength), restored[1:], atol=1e-5)


def test_median_filter_removes_isolated_salt_exactly():
    image = np.zeros((1, 9, 9), dtype=np.float32)
    image[0, 4, 4] = 1.0
    np.testing.assert_array_equal(utils.classical_denoise(image, "median", 3), np.zeros_like(image))


def test_tuning_picks_the_best_strength_on_the_grid():
    clean = np.zeros((4, 16, 16, 1), dtype=np.float32)
    clean[:, 4:12, 6:10] = 1.0
    noisy = utils.add_noise(clean, "gaussian", 0.3, seed=1)
    best, scores = utils.tune_classical_filter("gaussian_blur", clean, noisy, grid=(0.3, 1.0, 4.0))
    assert set(scores) == {0.3, 1.0, 4.0}
    assert scores[best] == max(scores.values())
    assert best == 1.0  # 0.3 leaves the noise, 4.0 blurs the bar away


@pytest.mark.parametrize(
    "method, strength, message",
    [("bilateral", 1.0, "unknown filter"), ("median", 4, "odd integer"), ("median", 2.5, "odd integer"),
     ("nl_means", 0, "> 0"), ("wavelet", float("inf"), "finite"), ("total_variation", "0.1", "number")],
)
def test_classical_denoise_rejects_bad_arguments(method, strength, message):
    with pytest.raises(ValueError, match=message):
        utils.classical_denoise(grey_images(0.5, count=1, side=16), method, strength)


def test_tuning_rejects_mismatched_images_and_empty_grids():
    with pytest.raises(ValueError, match="same shape"):
        utils.tune_classical_filter("median", grey_images(0.5, 2, 16), grey_images(0.5, 3, 16))
    with pytest.raises(ValueError, match="at least one"):
        utils.tune_classical_filter("median", grey_images(0.5, 2, 16), grey_images(0.5, 2, 16), grid=())


# --------------------------------------------------------------------------
# Denoising any image
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unet():
    keras.utils.set_random_seed(0)
    return utils.build_unet()


@pytest.mark.parametrize("shape", [(29, 31), (1, 1), (28, 28), (45, 7)])
def test_denoise_image_returns_the_input_size_for_odd_shapes(unet, shape):
    image = np.random.default_rng(0).random(shape).astype(np.float32)
    restored = utils.denoise_image(unet, image)
    assert restored.shape == shape and restored.dtype == np.float32
    assert restored.min() >= 0.0 and restored.max() <= 1.0


def test_denoise_image_matches_the_model_on_a_stride_multiple(unet):
    image = np.random.default_rng(1).random((32, 36)).astype(np.float32)
    expected = unet.predict(image[None, :, :, None], verbose=0)[0, :, :, 0]
    np.testing.assert_allclose(utils.denoise_image(unet, image), expected, atol=1e-6)


def test_denoise_image_reads_png_and_jpeg_and_converts_colour_to_grey(unet, tmp_path):
    pixels = np.random.default_rng(2).integers(0, 256, (30, 33, 3), dtype=np.uint8)
    for name in ("colour.png", "colour.jpg"):
        Image.fromarray(pixels).save(tmp_path / name)
        grey = utils.load_grey_image(tmp_path / name)
        assert grey.shape == (30, 33) and grey.dtype == np.float32 and 0 <= grey.min() and grey.max() <= 1
        assert utils.denoise_image(unet, str(tmp_path / name)).shape == (30, 33)
    expected = np.asarray(Image.fromarray(pixels).convert("L"), dtype=np.float32) / 255
    np.testing.assert_allclose(utils.load_grey_image(tmp_path / "colour.png"), expected)


def test_load_grey_image_scales_uint8():
    image = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    np.testing.assert_allclose(utils.load_grey_image(image), [[0, 1], [0.2, 0.4]], atol=1e-7)


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((2, 28, 28)), "2-D grey array"),
        (np.zeros((28, 28, 3)), "rgb2gray"),
        (np.zeros(28), "2-D grey array"),
        (np.full((4, 4), 2.0), r"values in \[0, 1\]"),
        (np.full((4, 4), np.nan), "NaN"),
        (np.zeros((4, 4), dtype=np.int64), "uint8"),
        (np.zeros((0, 4)), "empty"),
        (None, "path or a 2-D array"),
    ],
)
def test_denoise_image_rejects_bad_arrays(unet, image, message):
    with pytest.raises(ValueError, match=message):
        utils.denoise_image(unet, image)


def test_denoise_image_rejects_bad_paths_and_files(unet, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        utils.denoise_image(unet, tmp_path / "missing.png")
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("this is not a PNG")
    with pytest.raises(ValueError, match="not a readable PNG or JPEG"):
        utils.denoise_image(unet, not_an_image)
    truncated = tmp_path / "truncated.png"
    Image.fromarray(np.zeros((20, 20), dtype=np.uint8)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:40])
    with pytest.raises(ValueError, match="not a readable PNG or JPEG"):
        utils.denoise_image(unet, truncated)


def test_denoise_image_explains_a_fixed_size_model():
    fixed = utils.build_unet((28, 28, 1))
    assert utils.denoise_image(fixed, np.zeros((28, 28), dtype=np.float32)).shape == (28, 28)
    with pytest.raises(ValueError, match="takes images of 28x28 pixels only"):
        utils.denoise_image(fixed, np.zeros((40, 40), dtype=np.float32))
    with pytest.raises(ValueError, match="keras.Model"):
        utils.denoise_image("model.keras", np.zeros((28, 28), dtype=np.float32))
