"""Argument checks shared by ``utils.py``: what a wrong argument gets is a clear error, not a crash deep inside
NumPy, Keras or pathlib, nor a silently wrong result. And the notebook's quality checks, at the end: what a
run got worse than the tutorial's, and which settings it changed (``utils`` offers them too).

A wrong type raises ``TypeError``; a wrong value, shape, dtype, range or path raises ``ValueError``. Each
message names the argument, what it got and what it expects: ``level must be a finite number >= 0 and <= 100,
got float nan``. Each check returns the value it checked, converted where that helps (a ``Path``, an array).
"""

import math
import os
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")
MAX_NOISE_LEVEL = 100.0  # far beyond pure noise already; keeps float32 arithmetic finite
MIN_POISSON_LEVEL = 1e-4  # 1 / level**2 = 10**8 photons per white pixel

def fail(name, got, expected, error=ValueError):
    raise error(f"{name} must be {expected}, got {got}")


def described(value):
    if isinstance(value, np.ndarray):  # its shape and dtype, never a page of numbers
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 60 else text[:57] + '...'}"


def check_int(value, name, minimum=0, maximum=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        fail(name, described(value), "an integer", TypeError)
    if value < minimum or (maximum is not None and value > maximum):
        fail(name, value, f"an integer >= {minimum}" + ("" if maximum is None else f" and <= {maximum}"))
    return int(value)


def check_number(value, name, low=0.0, high=math.inf, *, above_low=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(name, described(value), "a number", TypeError)
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number) or number < low or number > high or (above_low and number == low):
        bounds = f"{'>' if above_low else '>='} {low:g}" + ("" if high == math.inf else f" and <= {high:g}")
        fail(name, described(value), f"a finite number {bounds}")
    return number


def check_bool(value, name):
    if not isinstance(value, bool):
        fail(name, described(value), "True or False", TypeError)
    return value


def check_choice(value, name, choices):
    if not isinstance(value, str):
        fail(name, described(value), f"a str, one of {', '.join(map(repr, choices))}", TypeError)
    if value not in choices:
        fail(name, repr(value), f"one of {', '.join(map(repr, choices))}")
    return value


def check_seed(seed, name="seed"):
    """What numpy.random.default_rng takes: None, an int >= 0, a tuple of them, or a Generator."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (tuple, list)):
        if not seed:
            fail(name, "an empty sequence", "an integer >= 0 or a non-empty tuple of them")
        return tuple(check_int(part, f"each part of {name}") for part in seed)
    return check_int(seed, name)


def check_path(path, name, suffix=None):
    if not isinstance(path, (str, os.PathLike)):
        fail(name, described(path), "a str or pathlib.Path", TypeError)
    path = Path(path)
    if str(path) in ("", ".") or path.is_dir():
        fail(name, repr(str(path)), "the path of a file, not a folder")
    if suffix is not None and path.suffix.lower() != suffix:
        fail(name, repr(path.name), f"a file name ending in {suffix}")
    return path


def check_shape(shape, name, multiple=1, any_size=True):
    """(height, width, 1): each side None (any size, where allowed) or a positive multiple of ``multiple``."""
    if not isinstance(shape, (tuple, list)):
        fail(name, described(shape), "a tuple (height, width, 1)", TypeError)
    if len(shape) != 3 or shape[2] != 1:
        fail(name, repr(shape), "a tuple (height, width, 1): one grey channel")
    side_name = f"each side of {name}"
    for side in shape[:2]:
        if (side is None and not any_size) or (side is not None and check_int(side, side_name, 1) % multiple):
            fail(side_name, side, ("None (any size) or " if any_size else "") + f"a multiple of {multiple}")
    return tuple(shape)


def check_images(images, name="images", ranks=(3, 4)):
    """Return ``images`` as an ndarray after checking type, rank, channels, dtype, finiteness and range."""
    if not isinstance(images, (np.ndarray, list, tuple)) and not hasattr(images, "__array__"):
        fail(name, described(images), "a NumPy array of images", TypeError)
    try:
        array = np.asarray(images)
    except ValueError:  # a ragged nested list
        fail(name, "a ragged sequence", "a rectangular array of images")
    if ranks == (2,):  # one image
        if array.ndim != 2 or array.size == 0:
            hint = " (convert colour with skimage.color.rgb2gray)" if array.ndim == 3 and array.shape[-1] in (3, 4) else ""
            fail(name, f"shape {array.shape}", f"one non-empty grey image of shape (H, W){hint}")
    elif array.ndim not in ranks or (array.ndim == 4 and array.shape[-1] != 1) or array.size == 0:
        shape = "(N, H, W, 1)" if ranks == (4,) else "(N, H, W) or (N, H, W, 1)"
        hint = " (add a batch axis with image[None] for one image)" if array.ndim == 2 else ""
        fail(name, f"shape {array.shape}", f"a non-empty batch of grey images of shape {shape}{hint}")
    if array.dtype.kind != "f":
        hint = " (divide uint8 images by 255)" if array.dtype.kind in "iu" else ""
        fail(name, f"dtype {array.dtype}", f"a floating-point dtype with values in [0, 1]{hint}")
    if not np.isfinite(array).all():
        fail(name, "NaN or infinite values", "finite values in [0, 1]")
    if array.min() < 0.0 or array.max() > 1.0:
        fail(name, f"values in [{array.min():.4g}, {array.max():.4g}]", "values in [0, 1]")
    return array


def check_image_pair(pair, name, image_shape):
    """A pair (noisy images, clean images) of the same shape ``(N, *image_shape)``."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        fail(name, described(pair), "a pair (noisy images, clean images)", TypeError)
    noisy, clean = (check_images(images, f"{name}[{index}]", ranks=(4,)) for index, images in enumerate(pair))
    if noisy.shape != clean.shape or noisy.shape[1:] != tuple(image_shape):
        fail(name, f"shapes {noisy.shape} and {clean.shape}", f"two arrays of the same shape (N, *{tuple(image_shape)})")
    return noisy, clean


def check_level(kind, level, count):
    """A noise level in the range of its kind (see utils.add_noise): a float64 scalar, or an array of ``count``."""
    high = 1.0 if kind == "salt_and_pepper" else MAX_NOISE_LEVEL
    expected = f"a finite number in [0, {high:g}], or a 1-D array of {count} of them (one per image)"
    if isinstance(level, (list, tuple, np.ndarray)):
        values = np.asarray(level)
        if values.dtype.kind not in "iuf" or values.shape != (count,):
            fail("level", f"an array of dtype {values.dtype} and shape {values.shape}", expected)
        values = values.astype(np.float64)
        if not np.isfinite(values).all() or values.min() < 0 or values.max() > high:
            fail("level", f"values in [{values.min():.4g}, {values.max():.4g}]", expected)
    else:
        values = np.float64(check_number(level, "level", 0.0, high))
    if kind == "poisson" and np.any((values > 0) & (values < MIN_POISSON_LEVEL)):
        fail("a poisson level", f"{np.min(values[values > 0]):.3g}", f"0 or at least {MIN_POISSON_LEVEL:g}")
    return values


def check_noise_spec(noise_kind, noise_level, known_kinds):
    """A kind and a level; a kind and a range (low, high); or several kinds, with one level or one each."""
    kinds = [noise_kind] if isinstance(noise_kind, str) else noise_kind
    if not isinstance(kinds, (list, tuple)) or not kinds:
        fail("noise_kind", described(noise_kind), "a noise kind or a non-empty tuple of kinds", TypeError)
    kinds = [check_choice(kind, "noise_kind", known_kinds) for kind in kinds]
    if not isinstance(noise_level, (tuple, list)):
        levels = [float(check_level(kind, noise_level, 1)) for kind in kinds]
        return (kinds[0] if len(kinds) == 1 else kinds), levels[0]
    expected = "a number, or a range (low, high) with low <= high" if len(kinds) == 1 else \
        f"one number, or {len(kinds)} numbers: one per noise kind"
    if len(noise_level) != (2 if len(kinds) == 1 else len(kinds)):
        fail("noise_level", repr(noise_level), expected)
    levels = [float(check_level(kind, level, 1)) for kind, level in zip(kinds * 2, noise_level)]
    if len(kinds) == 1 and levels[0] > levels[1]:
        fail("noise_level", repr(noise_level), expected)
    return (kinds[0] if len(kinds) == 1 else kinds), levels


def check_model(model, name="model"):
    import keras  # started by utils before this is called

    if not isinstance(model, keras.Model):
        fail(name, described(model), "a keras.Model", TypeError)
    return model


def check_model_fits(model, image_shape, what, stride):
    """Raise ValueError unless ``model`` maps (N, *image_shape) images to images of the same shape; ``stride``
    is the model's (utils.model_stride): the image's sides must be multiples of it."""
    input_shape, output_shape = model.input_shape, model.output_shape
    if not isinstance(input_shape, tuple) or not isinstance(output_shape, tuple) or len(input_shape) != 4:
        raise ValueError(f"{what} must take and return one batch of images (N, H, W, C), got input shape "
                         f"{input_shape} and output shape {output_shape}")
    sides_fit = all(side in (None, size) and size % stride == 0 for side, size in zip(input_shape[1:3], image_shape))
    if input_shape[3] != image_shape[2] or not sides_fit:
        sides = f" (sides: multiples of {stride})" if stride > 1 else ""
        raise ValueError(f"{what} takes images of shape {input_shape[1:]}{sides}; it cannot denoise images of "
                         f"shape {tuple(image_shape)}")
    if output_shape[1:] != input_shape[1:]:
        raise ValueError(f"{what} must return images of its input shape {input_shape[1:]}, got {output_shape[1:]}")


def load_grey_image(image):
    """A path to a PNG or JPEG (colour becomes grey), or a 2-D uint8 or float array: float32 in [0, 1]."""
    if isinstance(image, (str, os.PathLike)):
        path = check_path(image, "image")
        if not path.is_file():
            raise ValueError(f"image file {path.name!r} does not exist (looked at {path})")
        try:
            with Image.open(path) as opened:
                if opened.mode.startswith("I"):  # 16-bit grey: keep its depth (convert("L") would saturate it)
                    pixels = np.asarray(opened, dtype=np.float64)
                    if pixels.min() < 0 or pixels.max() > 65535:
                        raise ValueError(f"values outside 0..65535 in mode {opened.mode}")
                    return (pixels / 65535.0).astype(np.float32)
                return np.asarray(opened.convert("L"), dtype=np.float32) / 255.0
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise ValueError(f"image file {path.name!r} is not a readable PNG or JPEG image: {error}") from None
    if not isinstance(image, np.ndarray):
        fail("image", described(image), "a path to an image file, or a 2-D NumPy array", TypeError)
    if image.ndim != 2:
        hint = " (convert colour with skimage.color.rgb2gray)" if image.ndim == 3 and image.shape[-1] in (3, 4) else ""
        fail("image", f"shape {image.shape}", f"a 2-D grey image (height, width){hint}")
    if image.dtype == np.uint8 and image.size:
        return image.astype(np.float32) / 255.0
    return check_images(image[None], "image")[0].astype(np.float32)


def read_mnist_npz(path):
    """Read and check an ``mnist.npz`` file: its arrays by key; every problem is a ValueError naming the file."""
    if not path.is_file():
        raise ValueError(f"MNIST file {path.name!r} does not exist (looked at {path}); expected an .npz file "
                         f"with the keys {', '.join(MNIST_KEYS)}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single .npy array, not an .npz archive of several")
        with archive:
            found = list(archive.files)
            arrays = {key: archive[key] for key in MNIST_KEYS if key in found}
    except (ValueError, zipfile.BadZipFile, OSError, EOFError, KeyError) as error:
        raise ValueError(f"MNIST file {path.name!r} is not a readable .npz archive ({error})") from None
    if len(arrays) < len(MNIST_KEYS):
        raise ValueError(f"MNIST file {path.name!r} must hold the keys {', '.join(MNIST_KEYS)}; it holds "
                         f"{', '.join(found) or 'none'}")
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) == 0:
            raise ValueError(f"MNIST file {path.name!r}: x_{split} must be a non-empty uint8 array of shape "
                             f"(N, 28, 28), got {images.dtype} of shape {images.shape}")
        if labels.dtype.kind not in "iu" or labels.shape != (len(images),) or labels.min() < 0 or labels.max() > 9:
            raise ValueError(f"MNIST file {path.name!r}: y_{split} must hold {len(images)} integer labels 0..9, got "
                             f"{labels.dtype} of shape {labels.shape}")
    return arrays


def check_widths(values, name, count=None):
    if not isinstance(values, (tuple, list)):
        fail(name, described(values), "a tuple of integers", TypeError)
    if not values or (count is not None and len(values) != count):
        fail(name, repr(values), f"a tuple of {count or 'one or more'} integers")
    return tuple(check_int(value, f"each of {name}", minimum=1) for value in values)


def check_notes(notes, name, count):
    if notes is not None and (not isinstance(notes, (list, tuple)) or len(notes) < count):
        fail(name, described(notes), f"a list of at least {count} captions, one per image shown")


def check_verbose_and_callbacks(verbose, callbacks):
    if verbose not in (0, 1) or isinstance(verbose, float):
        fail("verbose", described(verbose), "0 or 1")
    if not isinstance(callbacks, (tuple, list)) or not all(hasattr(c, "on_epoch_end") and hasattr(c, "set_model") for c in callbacks):
        fail("callbacks", described(callbacks), "a list of keras.callbacks.Callback", TypeError)


# ---- Quality checks: say what got worse, and never stop the notebook ----

# The notebook's parameters in its default run, and where quick mode differs: what "you changed" compares with.
DEFAULTS = {"NOISE_KIND": "gaussian", "NOISE_LEVEL": 0.5, "NUM_EPOCHS": 4, "BATCH_SIZE": 16, "LEARNING_RATE": 4e-3,
            "TRAIN_SIZE": 6_000, "VALIDATION_SIZE": 1_000, "TEST_SIZE": 5_000, "EXPERIMENT_TRAIN_SIZE": 3_000,
            "EXPERIMENT_EPOCHS": 2, "ROBUSTNESS_TEST_SIZE": 1_000, "KIND_LEVELS": {"gaussian": 0.5,
            "salt_and_pepper": 0.2, "speckle": 1.0, "poisson": 1.0}, "BLIND_LEVELS": (0.1, 0.7), "TUNING_SIZE": 200,
            "MAP_SIZE": 1_000, "PROBE_SIZE": 3_000, "PHOTO_NOISE_SIGMA": 25 / 255, "PHOTO_PATCH_SIZE": 24,
            "PHOTO_PATCHES": 16_000, "PHOTO_BATCH_SIZE": 32, "PHOTO_EPOCHS": 14, "SEED": 42, "REUSE_SAVED_MODELS": False}
QUICK_DEFAULTS = {**DEFAULTS, "TRAIN_SIZE": 1_500, "VALIDATION_SIZE": 500, "TEST_SIZE": 1_000,
                  "EXPERIMENT_TRAIN_SIZE": 750, "ROBUSTNESS_TEST_SIZE": 500, "MAP_SIZE": 300, "PROBE_SIZE": 1_500,
                  "PHOTO_PATCHES": 1_000, "PHOTO_EPOCHS": 2}
AUTOENCODER_DEFAULTS = {"parameters": 128_401, "loss": "binary_crossentropy"}  # as part 1 writes it


def changed_settings(namespace):
    """What a run changed from the tutorial's own run: the parameters in ``namespace`` (the notebook's ``globals()``)
    that differ from ``DEFAULTS`` (``QUICK_DEFAULTS`` in quick mode), and the autoencoder's size or loss."""
    if not isinstance(namespace, dict):
        fail("namespace", described(namespace), "a dict of the notebook's variables, globals()", TypeError)
    defaults = QUICK_DEFAULTS if namespace.get("QUICK_MODE") else DEFAULTS
    changes = [f"{name} = {namespace[name]!r} (default {default!r})" for name, default in defaults.items()
               if name in namespace and namespace[name] != default]
    model = namespace.get("autoencoder")
    if hasattr(model, "count_params"):  # a Keras model
        if model.count_params() != AUTOENCODER_DEFAULTS["parameters"]:
            changes.append(f"the autoencoder has {model.count_params():,} parameters (default 128,401)")
        if getattr(model, "loss", None) not in (None, AUTOENCODER_DEFAULTS["loss"]):
            changes.append(f"the autoencoder's loss is {model.loss!r} (default 'binary_crossentropy')")
    return changes


def report_checks(checks, changed=()):
    """Print whether this run's models work as well as the tutorial's.

    ``checks``: ``(what, value, low)`` or ``(what, value, low, high)`` tuples, each passed when ``low < value``
    (and ``value < high``). A failure is printed with what got worse and by how much, and the ``changed`` settings
    (``changed_settings``); nothing is raised, so "Run all" goes on. The tests compare this cell's output with
    the tutorial's "All quality checks passed.", so there a failure fails."""
    if not isinstance(checks, (list, tuple)) or not checks:
        fail("checks", described(checks), "a non-empty list of (what, value, low[, high]) tuples", TypeError)
    failed = []
    for check in checks:
        if not isinstance(check, tuple) or len(check) not in (3, 4) or not isinstance(check[0], str):
            fail("each check", described(check), "a tuple (what, value, low) or (what, value, low, high)", TypeError)
        what, value, low, high = (*check, math.inf)[:4]
        value = float(value)  # NaN fails every comparison: a broken model fails its checks
        if not (low < value < high):
            expected = f"more than {low:.2f}" + ("" if high == math.inf else f" and less than {high:.2f}")
            by = f"{low - value:.2f} short" if value <= low else f"{value - high:.2f} over" if value >= high else ""
            failed.append(f"  - {what}: {value:.2f}, expected {expected}" + (f" ({by})" if by else ""))
    if not failed:
        print("All quality checks passed.")
        return
    print(f"Quality check failed: {len(failed)} of {len(checks)} measurements are worse than a working model gives.")
    print("\n".join(failed))
    print("You changed: " + "; ".join(changed) + "." if changed else
          "You changed no parameter: if you changed no code either, something is broken.")
    print("The notebook goes on, but from here its text describes the tutorial's run, not this one.")
