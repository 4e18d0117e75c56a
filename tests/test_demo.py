"""Tests for the interactive demo (demo.py): its update (compare_denoisers), called directly, the widget itself, and
its drawing pad: a drawing brought to MNIST's form (to_mnist), and the pad's bytes reaching the demo."""

import io
import math
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import demo as demo_module
import utils


@pytest.fixture(scope="module")
def digits():
    images = np.zeros((6, 28, 28, 1), np.float32)
    for index, image in enumerate(images):
        image[6:22, 8 + index:12 + index] = 1.0  # a bar, in a different place in each image
    return images


@pytest.fixture(scope="module")
def denoisers():
    keras.utils.set_random_seed(0)
    return {"U-Net": utils.build_unet(filters=(4, 4, 4)), "identity": lambda images: images,
            "median 3x3": lambda images: utils.classical_denoise(images, "median", 3)}


def test_an_update_returns_each_image_and_its_psnr(digits, denoisers):
    rows = demo_module.compare_denoisers(denoisers, digits, "gaussian", 0.3, 4, seed=7)
    assert list(rows) == ["clean", "noisy", "U-Net", "identity", "median 3x3"]
    clean, noisy = rows["clean"][0], rows["noisy"][0]
    np.testing.assert_array_equal(clean, digits[4, ..., 0])
    assert rows["clean"][1] == math.inf
    for name, (image, value) in rows.items():
        assert image.shape == (28, 28) and image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1, name
        if name != "clean":
            assert value == pytest.approx(utils.psnr(clean[None], image[None])[0]), name
    # The identity "denoiser" returns the noisy image itself; the median filter removes much of the noise.
    np.testing.assert_array_equal(rows["identity"][0], noisy)
    assert rows["median 3x3"][1] > rows["noisy"][1] + 2
    np.testing.assert_array_equal(rows["U-Net"][0], np.clip(denoisers["U-Net"].predict(noisy[None, ..., None],
                                                                                         verbose=0)[0, ..., 0], 0, 1))


def test_a_digit_keeps_its_noise_pattern_as_the_level_changes(digits, denoisers):
    # The noise comes from the seed (seed, index): moving the level slider scales one pattern.
    low = demo_module.compare_denoisers(denoisers, digits, "gaussian", 0.1, 2, seed=7)["noisy"][0] - digits[2, ..., 0]
    high = demo_module.compare_denoisers(denoisers, digits, "gaussian", 0.2, 2, seed=7)["noisy"][0] - digits[2, ..., 0]
    unclipped = (np.abs(digits[2, ..., 0] - 0.5) > 0.4) & (np.abs(low) < 0.05)  # away from clipping at 0 and 1
    inside = unclipped & (digits[2, ..., 0] + high > 0) & (digits[2, ..., 0] + high < 1)
    np.testing.assert_allclose(high[inside], 2 * low[inside], atol=1e-5)
    # Another digit gets another pattern: compare where both digits are black and the noise is unclipped.
    other = demo_module.compare_denoisers(denoisers, digits, "gaussian", 0.1, 3, seed=7)["noisy"][0] - digits[3, ..., 0]
    background = (digits[2, ..., 0] == 0) & (digits[3, ..., 0] == 0) & (low > 0) & (other > 0)
    assert background.sum() > 100 and not np.allclose(other[background], low[background])


@pytest.mark.parametrize(("kind", "level", "index", "error", "message"), [
    ("gaussian", 0.5, 6, ValueError, "index must be an integer >= 0 and <= 5, got 6"),
    ("gaussian", 0.5, 1.0, TypeError, "index must be an integer"),
    ("blur", 0.5, 0, ValueError, "kind must be one of"),
    ("salt_and_pepper", 2.0, 0, ValueError, "level must be a finite number >= 0 and <= 1"),
])
def test_a_bad_update_says_what_is_wrong(digits, denoisers, kind, level, index, error, message):
    with pytest.raises(error, match=message):
        demo_module.compare_denoisers(denoisers, digits, kind, level, index)


def test_the_denoisers_must_be_models_or_functions(digits):
    with pytest.raises(TypeError, match=r"models must be a non-empty dict \{name: model\}"):
        demo_module.compare_denoisers({}, digits, "gaussian", 0.5, 0)
    with pytest.raises(TypeError, match=r"models\['mine'\] must be a keras.Model or a function of a batch of images"):
        demo_module.compare_denoisers({"mine": "model.keras"}, digits, "gaussian", 0.5, 0)


def test_the_widget_updates_its_picture_and_shows_a_static_figure_where_widgets_cannot_run(
        digits, denoisers, monkeypatch):
    shown = []
    monkeypatch.setattr(demo_module, "display",
                        lambda bundle, raw=False, metadata=None: shown.append((bundle, raw, metadata)))
    demo = demo_module.denoising_demo(denoisers, digits, seed=3)
    (bundle, raw, metadata), = shown
    # One output, two forms: the live widget for Jupyter, JupyterLab, VS Code and Colab, and a PNG for the rest.
    assert raw and bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == demo.model_id
    assert bundle["image/png"] and "text/plain" in bundle
    (kind, level), (index, shuffle) = demo.children[0].children, demo.children[1].children
    picture, caption, _ = demo.children[2:]
    first = bytes(picture.value)  # the widget keeps a memoryview
    assert first.startswith(b"\x89PNG")
    # Drawn with twice the pixels it is shown with, so it stays sharp; the static PNG is shown at that size too.
    shown_width = int(picture.layout.width.removesuffix("px"))
    assert shown_width == metadata["image/png"]["width"]
    assert abs(Image.open(io.BytesIO(first)).width - 2 * shown_width) <= 1
    assert "level 0.50, test image 0" in caption.value and "Run All Cells" in caption.value
    seconds = []  # what moving the slider does; the median, as another test may be training beside this one
    for value in (0.9, 0.7, 0.9, 0.7, 0.9):
        start = time.perf_counter()
        level.value = value
        seconds.append(time.perf_counter() - start)
    assert sorted(seconds)[2] < 1.0, seconds  # well under a second
    assert bytes(picture.value) != first and bytes(picture.value).startswith(b"\x89PNG")
    assert "level 0.90" in caption.value
    kind.value, index.value = "salt_and_pepper", 5
    assert "salt_and_pepper noise, level 0.90, test image 5" in caption.value
    shuffle.click()  # a random digit
    assert 0 <= index.value < len(digits)


def test_a_drawing_replaces_the_test_digit_until_the_pad_is_cleared(digits, denoisers, monkeypatch):
    monkeypatch.setattr(demo_module, "display", lambda *arguments, **keywords: None)
    demo = demo_module.denoising_demo(denoisers, digits, seed=3)
    picture, caption, drawing = demo.children[2:]
    _, pad, clear = drawing.children
    before = bytes(picture.value)
    ink = np.zeros((pad.size, pad.size), dtype=np.uint8)
    ink[40:240, 130:152] = 255  # a "1"
    pad.set_state({"pixels": memoryview(ink.tobytes())})  # as the browser's bytes arrive, after a stroke
    assert "your drawing" in caption.value and bytes(picture.value) != before
    drawn_one = bytes(picture.value)
    ring = np.zeros_like(ink)
    rows, columns = np.ogrid[:pad.size, :pad.size]
    ring[np.abs(np.hypot(rows - 140, columns - 140) - 80) < 12] = 255  # a "0"
    pad.set_state({"pixels": memoryview(ring.tobytes())})
    assert bytes(picture.value) != drawn_one
    clear.click()
    assert pad.pixels == b"" and "test image 0" in caption.value and bytes(picture.value) == before


def bounding_box(image):
    rows, columns = np.nonzero(image)
    return rows.min(), rows.max(), columns.min(), columns.max()


def test_to_mnist_fits_the_drawing_in_20_pixels_centred_by_its_mass():
    from scipy import ndimage

    drawing = np.zeros((280, 280))
    drawing[40:240, 130:152] = 1  # a bar 200 tall, 22 wide: shrunk 10 times
    digit = demo_module.to_mnist(drawing)
    assert digit.dtype == np.float32 and digit.shape == (28, 28) and digit.min() == 0 and digit.max() == 1
    top, bottom, left, right = bounding_box(digit)
    assert bottom - top + 1 == 20 and right - left + 1 <= 3
    for shape in (np.triu(np.ones((300, 200))), np.pad(np.ones((10, 240)), 50)):  # off-centre mass; wide, not tall
        digit = demo_module.to_mnist(shape)
        assert np.allclose(ndimage.center_of_mass(digit), (14, 14), atol=0.5)
        top, bottom, left, right = bounding_box(digit)
        assert max(bottom - top, right - left) + 1 == 20


def test_mnist_digits_are_already_in_mnist_form():
    (_, _), (test_images, _) = utils.load_mnist(verbose=False)
    for image in test_images[:200:10, :, :, 0]:
        np.testing.assert_allclose(demo_module.to_mnist(image), image / image.max(), atol=1e-6)


@pytest.mark.parametrize(("image", "error", "message"), [
    (np.zeros((28, 28)), ValueError, "empty.*draw a digit first"),
    (np.zeros((28, 28, 3)), ValueError, r"2-D .* shape is \(28, 28, 3\)"),
    (np.zeros((0, 5)), ValueError, "no pixels"),
    (np.full((4, 4), np.nan), ValueError, "NaN or infinite"),
    (np.full((4, 4), 300.0), ValueError, "0 to 1 or 0 to 255"),
    (np.full((4, 4), "x"), TypeError, "numbers"),
])
def test_to_mnist_says_what_is_wrong_with_a_bad_image(image, error, message):
    with pytest.raises(error, match=message):
        demo_module.to_mnist(image)
