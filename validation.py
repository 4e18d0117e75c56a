"""Argument checks shared by ``utils.py``: what a wrong argument gets is a clear error, not a crash deep inside
NumPy, Keras or pathlib, nor a silently wrong result.

A wrong type raises ``TypeError``; a wrong value, shape, dtype, range or path raises ``ValueError``. Each
message names the argument, what it got and what it expects: ``level must be a finite number >= 0 and <= 100,
got float nan``. Each check returns the value it checked, converted where that helps (a ``Path``, an array).
"""

import math
import os
from pathlib import Path

import numpy as np

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
