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
import utils

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
    "kind, level, error, message",
    [
        ("salt_and_pepper", 1.5, ValueError, r"level must be a finite number >= 0 and <= 1, got float 1.5"),
        ("speckle", -0.1, ValueError, ">= 0"),
        ("poisson", float("nan"), ValueError, "finite"),
        # 1 / level**2 photons: a tiny level used to raise ZeroDivisionError or overflow.
        ("poisson", 1e-200, ValueError, "a poisson level must be 0 or at least 0.0001, got 1e-200"),
        ("gaussian", np.array([0.1, 0.2]), ValueError, r"1-D array of 3 of them \(one per image\)"),
        ("gaussian", np.zeros((2, 2)), ValueError, r"got an array of dtype float64 and shape \(2, 2\)"),
        ("gaussian", np.array([0.1, np.inf, 0.2]), ValueError, "got values in"),
        ("gaussian", "0.5", TypeError, "level must be a number"),
        ("blur", 0.5, ValueError, "kind must be one of"),
    ],
)
def test_add_noise_rejects_bad_kinds_and_levels(kind, level, error, message):
    with pytest.raises(error, match=message):
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
    "call, error, message",
    [
        (lambda: utils.build_unet((30, 28, 1)), ValueError, "multiple of 4"),
        (lambda: utils.build_unet(filters=(16, 32)), ValueError, "filters must be a tuple of 3 integers"),
        (lambda: utils.build_unet(filters=(16, 32, 0)), ValueError, "each of filters must be an integer >= 1"),
        (lambda: utils.build_unet(filters=16), TypeError, "filters must be a tuple of integers, got int 16"),
        (lambda: utils.build_unet((28, 28, 3)), ValueError, "one grey channel"),
        (lambda: utils.build_residual_denoiser(width=0), ValueError, "width must be an integer >= 1"),
        (lambda: utils.build_residual_denoiser(dilations=()), ValueError, "dilations must be a tuple of one or more"),
        (lambda: utils.build_residual_denoiser(dilations=(1, 0)), ValueError, "each of dilations"),
    ],
)
def test_new_builders_reject_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_model_stride():
    assert utils.model_stride(utils.build_unet()) == 4
    assert utils.model_stride(utils.build_autoencoder()) == 4
    assert utils.model_stride(utils.build_baseline_autoencoder()) == 4
    assert utils.model_stride(utils.build_residual_denoiser()) == 1


def test_model_stride_looks_inside_nested_models():
    # Convolutions inside a Sequential inside a Functional model used to count as stride 1.
    inner = keras.Sequential([keras.layers.Conv2D(4, 3, strides=2, padding="same"),
                              keras.layers.Conv2DTranspose(1, 2, strides=2)])
    inputs = keras.Input((None, None, 1))
    assert utils.model_stride(keras.Model(inputs, inner(inputs))) == 2


# --------------------------------------------------------------------------
# Training: mixtures, blind levels, Noise2Noise
# --------------------------------------------------------------------------


@pytest.fixture
def recorded_fit(monkeypatch):
    """Replace Model.fit by a recorder of the (inputs, targets) that train_denoiser hands it."""
    seen = []

    def recording_fit(model, x, y, **kwargs):
        seen.append((x, y))
        history = keras.callbacks.History()
        history.history = {"loss": [0.5], "psnr": [10.0]}
        return history

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    return seen


def test_blind_training_draws_one_level_per_image(recorded_fit):
    images = grey_images(0.5, count=200, side=16)
    utils.train_denoiser(utils.build_unet(), images, noise_level=(0.05, 0.3), epochs=1, seed=1, verbose=0)
    (noisy, clean), = recorded_fit
    spread = (noisy - clean).reshape(200, -1).std(axis=1)
    assert spread.min() > 0.03 and spread.max() < 0.33
    assert spread.max() - spread.min() > 0.15  # different images got different levels, not one for all
    np.testing.assert_array_equal(clean, 0.5)  # clean targets


def test_mixture_training_uses_every_kind_at_its_own_level(recorded_fit):
    images = grey_images(0.5, count=400, side=16)
    utils.train_denoiser(utils.build_unet(), images, noise_kind=("gaussian", "salt_and_pepper"), noise_level=(0.1, 0.2),
                         epochs=1, seed=2, verbose=0)
    (noisy, _), = recorded_fit
    flat = noisy.reshape(400, -1)
    salt_and_pepper = np.all(np.isin(flat, [0.0, 0.5, 1.0]), axis=1)
    assert 150 < salt_and_pepper.sum() < 250  # about half of the images each
    assert abs((flat[salt_and_pepper] != 0.5).mean() - 0.2) < 0.02  # at the level given for that kind
    assert (flat[~salt_and_pepper] - 0.5).std() == pytest.approx(0.1, rel=0.05)  # and Gaussian 0.1 for the rest


@pytest.mark.parametrize("clip", [True, False])
def test_noise2noise_trains_on_independent_noisy_targets(recorded_fit, clip):
    images = grey_images(0.5, count=8, side=16)
    utils.train_denoiser(utils.build_unet(), images, targets="noisy", clip_noisy_targets=clip, epochs=1, seed=1,
                         verbose=0)
    (inputs, targets), = recorded_fit
    assert not np.allclose(targets, 0.5), "Noise2Noise must never see the clean images"
    assert abs(np.corrcoef((inputs - 0.5).ravel(), (targets - 0.5).ravel())[0, 1]) < 0.05
    assert (targets - 0.5).std() == pytest.approx(0.5 if not clip else 0.34, rel=0.1)
    assert (targets.min() < 0.0 and targets.max() > 1.0) == (not clip)  # unclipped: zero-mean noise
    assert 0.0 <= inputs.min() and inputs.max() <= 1.0  # inputs are always clipped


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"noise_level": (0.5, 0.1)}, ValueError, "low <= high"),
        ({"noise_level": (0.1, 0.2, 0.3)}, ValueError, r"a range \(low, high\)"),
        ({"noise_kind": ("gaussian", "speckle"), "noise_level": (0.1, 0.2, 0.3)}, ValueError, "one per noise kind"),
        ({"noise_kind": ("gaussian", "fog")}, ValueError, "noise_kind must be one of"),
        ({"noise_kind": ()}, TypeError, "non-empty tuple of kinds"),
        ({"noise_kind": ("gaussian", "salt_and_pepper"), "noise_level": 1.5}, ValueError, "<= 1"),
        ({"noise_kind": "speckle", "targets": "noisy", "clip_noisy_targets": False}, ValueError,
         "one Gaussian level for unclipped Noise2Noise targets"),
        ({"targets": "none"}, ValueError, "targets must be one of 'clean', 'noisy'"),
        ({"clip_noisy_targets": "no"}, TypeError, "clip_noisy_targets must be True or False"),
    ],
)
def test_train_denoiser_rejects_bad_mixtures(kwargs, error, message):
    with pytest.raises(error, match=message):
        utils.train_denoiser(utils.build_unet(), grey_images(0.5, count=2, side=8), epochs=1, verbose=0, **kwargs)


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
        {"targets": "noisy", "clip_noisy_targets": False},
        {"noise_kind": utils.NOISE_KINDS, "noise_level": (0.5, 0.2, 0.5, 0.5)},
    ],
)
def test_blind_mixture_and_noise2noise_models_learn_to_denoise(digit_like_images, kwargs):
    # So small a U-Net, in 32 steps, stalls from some first weights, whatever it trains on: PyTorch's from seed 0,
    # TensorFlow's from seed 2 (each backend draws other weights from a seed). A second start then decides.
    noisy = utils.add_noise(digit_like_images, level=0.5, seed=5)
    gains = []
    for seed in (0, 1):
        keras.utils.set_random_seed(seed)
        model = utils.build_unet(filters=(8, 16, 16))
        before = utils.psnr(digit_like_images, model.predict(noisy, verbose=0)).mean()
        utils.train_denoiser(model, digit_like_images, epochs=8, batch_size=16, verbose=0, **kwargs)
        gains.append(utils.psnr(digit_like_images, model.predict(noisy, verbose=0)).mean() - before)
        if gains[-1] > 2.0:
            break
    assert max(gains) > 2.0, gains  # it learned from these targets


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
    "method, strength, error, message",
    [("bilateral", 1.0, ValueError, "method must be one of 'median'"), ("median", 4, ValueError, "odd integer"),
     ("median", 2.5, ValueError, "odd integer"), ("nl_means", 0, ValueError, "> 0"),
     ("wavelet", float("inf"), ValueError, "finite"), ("total_variation", "0.1", TypeError, "must be a number"),
     # A list as the method used to fail as unhashable; a huge median window ran out of memory.
     (["median"], 3, TypeError, "method must be a str"), ("median", 10**9 + 1, ValueError, "<= 99")],
)
def test_classical_denoise_rejects_bad_arguments(method, strength, error, message):
    with pytest.raises(error, match=message):
        utils.classical_denoise(grey_images(0.5, count=1, side=16), method, strength)


def test_tuning_rejects_mismatched_images_and_empty_grids():
    with pytest.raises(ValueError, match="same shape"):
        utils.tune_classical_filter("median", grey_images(0.5, 2, 16), grey_images(0.5, 3, 16))
    with pytest.raises(ValueError, match="grid must be a non-empty tuple of strengths"):
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


def test_denoise_image_pads_by_mirroring_and_crops_back(unet):
    # 29x31 is padded to 32x32 by mirroring the last rows and columns, denoised, and cropped back.
    image = np.random.default_rng(3).random((29, 31)).astype(np.float32)
    padded = np.pad(image, ((0, 3), (0, 1)), mode="symmetric")
    expected = unet.predict(padded[None, :, :, None], verbose=0)[0, :29, :31, 0]
    np.testing.assert_allclose(utils.denoise_image(unet, image), expected, atol=1e-6)
    # Not zero padding: the border it mirrors changes the result near the edge.
    zero_padded = np.pad(image, ((0, 3), (0, 1)))
    assert not np.allclose(unet.predict(zero_padded[None, :, :, None], verbose=0)[0, :29, :31, 0], expected)


def test_denoise_image_reads_png_and_jpeg_and_converts_colour_to_grey(unet, tmp_path):
    pixels = np.random.default_rng(2).integers(0, 256, (30, 33, 3), dtype=np.uint8)
    for name in ("colour.png", "colour.jpg"):
        Image.fromarray(pixels).save(tmp_path / name)
        grey = utils.load_grey_image(tmp_path / name)
        assert grey.shape == (30, 33) and grey.dtype == np.float32 and 0 <= grey.min() and grey.max() <= 1
        assert utils.denoise_image(unet, str(tmp_path / name)).shape == (30, 33)
    expected = np.asarray(Image.fromarray(pixels).convert("L"), dtype=np.float32) / 255
    np.testing.assert_allclose(utils.load_grey_image(tmp_path / "colour.png"), expected)


def test_a_16_bit_png_keeps_its_grey_levels(tmp_path):
    # convert("L") used to saturate 16-bit images: a mid-grey 16-bit PNG came out almost all white.
    pixels = np.array([[0, 16384], [32768, 65535]], dtype=np.uint16)
    Image.fromarray(pixels).save(tmp_path / "deep.png")
    np.testing.assert_allclose(utils.load_grey_image(tmp_path / "deep.png"), pixels / 65535, atol=1e-6)


def test_load_grey_image_scales_uint8():
    image = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    np.testing.assert_allclose(utils.load_grey_image(image), [[0, 1], [0.2, 0.4]], atol=1e-7)


@pytest.mark.parametrize(
    "image, error, message",
    [
        (np.zeros((2, 28, 28)), ValueError, r"image must be a 2-D grey image \(height, width\), got shape"),
        (np.zeros((28, 28, 3)), ValueError, "rgb2gray"),
        (np.zeros(28), ValueError, "2-D grey image"),
        (np.full((4, 4), 2.0), ValueError, r"values in \[0, 1\]"),
        (np.full((4, 4), np.nan), ValueError, "NaN"),
        (np.zeros((4, 4), dtype=np.int64), ValueError, "divide uint8 images by 255"),
        (np.zeros((0, 4)), ValueError, "non-empty"),
        (None, TypeError, "image must be a path to an image file, or a 2-D NumPy array, got NoneType"),
        ([[0.1, 0.2]], TypeError, "2-D NumPy array, got list"),
    ],
)
def test_denoise_image_rejects_bad_arrays(unet, image, error, message):
    with pytest.raises(error, match=message):
        utils.denoise_image(unet, image)


def test_denoise_image_refuses_a_model_that_outputs_nan():
    model = utils.build_unet()
    bias = model.get_layer("restored_images").bias
    bias.assign(np.full(bias.shape, np.nan, np.float32))
    with pytest.raises(ValueError, match="output holds NaN or infinite values"):
        utils.denoise_image(model, np.zeros((28, 28), np.float32))


def test_denoise_image_keeps_the_size_through_a_nested_model():
    # A U-Net wrapped in another model: its stride (4) must still be found, so odd sizes come back whole.
    inputs = keras.Input((None, None, 1))
    wrapped = keras.Model(inputs, utils.build_unet()(inputs))
    assert utils.denoise_image(wrapped, np.zeros((29, 30), np.float32)).shape == (29, 30)


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
    with pytest.raises(ValueError, match=r"takes images of shape \(28, 28, 1\).*cannot denoise images of shape \(40, 40, 1\)"):
        utils.denoise_image(fixed, np.zeros((40, 40), dtype=np.float32))
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        utils.denoise_image("model.keras", np.zeros((28, 28), dtype=np.float32))
