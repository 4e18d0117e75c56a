"""The notebook's interactive demo, for the classroom: noise a digit, a test digit or one you draw, and see what
each denoiser makes of it.

``compare_denoisers`` is one update of the demo; ``denoising_demo`` wires it to ipywidgets controls and to a pad to
draw on (``DrawingPad``, an anywidget canvas); ``to_mnist`` brings a drawing to MNIST's form, as LeCun et al. did to
the NIST digits: the digit's bounding box scaled to fit 20 x 20 pixels, keeping its aspect ratio, then placed in a
28 x 28 image with its centre of mass at the centre.
"""

import base64
import io
import math

import anywidget
import ipywidgets as widgets
import keras
import matplotlib.pyplot as plt
import numpy as np
import traitlets
from IPython.display import display
from ipywidgets.widgets.trait_types import bytes_serialization
from scipy import ndimage
from skimage.transform import resize

from utils import NOISE_KINDS, add_noise, plot_image_rows, psnr
from validation import check_images, check_int, described, fail

DEMO_DPI = 72  # the demo's picture on screen; it is drawn with twice as many pixels
MNIST_SIZE = 28
BOX_SIZE = 20  # the digit's bounding box fits 20 x 20 pixels, the rest is margin
# Row and column of MNIST's centre, counting from 0: every MNIST digit has its centre of mass within half a pixel
# of (14, 14), because LeCun et al. moved each digit by whole pixels (not 13.5, the middle of the 28 pixels).
CENTRE = 14


def compare_denoisers(models, images, kind, level, index, *, seed=0):
    """One update of the notebook's demo: noise test image ``index`` and denoise it with each of ``models``
    (``{name: keras.Model, or a function of a batch of images}``). The noise comes from the seed ``(seed, index)``,
    so a digit keeps its noise pattern while the level changes.
    Returns ``{"clean": (image, inf), "noisy": (image, PSNR), name: (image, PSNR), ...}``, images 2-D in [0, 1]."""
    images = check_images(images, "images", ranks=(4,))
    if not isinstance(models, dict) or not models:
        fail("models", described(models), "a non-empty dict {name: model}", TypeError)
    index = check_int(index, "index", 0, len(images) - 1)
    clean = images[index][None]
    noisy = add_noise(clean, kind, level, seed=(check_int(seed, "seed", 0), index))
    rows = {"clean": (clean[0, ..., 0], math.inf), "noisy": (noisy[0, ..., 0], float(psnr(clean, noisy)[0]))}
    for name, model in models.items():
        if not callable(model):
            fail(f"models[{name!r}]", described(model), "a keras.Model or a function of a batch of images", TypeError)
        restored = model(noisy, training=False) if isinstance(model, keras.Model) else model(noisy)
        restored = np.clip(keras.ops.convert_to_numpy(restored), 0.0, 1.0).astype(np.float32)
        rows[name] = (restored[0, ..., 0], float(psnr(clean, restored)[0]))
    return rows


def denoising_demo(models, images, *, seed=0):
    """A noise picker, a level slider, a box for the test image's index, a "random digit" button, and a pad to draw
    a digit on, with the comparison they choose, drawn at twice its size on screen so that it stays sharp on a
    projector. A drawing replaces the test digit until the pad is cleared or another test digit is chosen.

    The output carries the live widget and a PNG of its first picture: Jupyter, JupyterLab, VS Code and Colab show
    the widget, and frontends that cannot run widgets (GitHub, nbconvert's HTML) show the picture. A line under the
    picture says what it shows, and what to do when it stops following the controls (the kernel restarted)."""
    rng = np.random.default_rng(check_int(seed, "seed", 0))
    kind = widgets.Dropdown(options=NOISE_KINDS, value="gaussian", description="noise")
    level = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="level")
    index = widgets.BoundedIntText(value=0, min=0, max=len(images) - 1, description="test image",
                                   layout=widgets.Layout(width="200px"))
    shuffle, picture = widgets.Button(description="random digit"), widgets.Image(format="png")
    caption, pad, clear = widgets.HTML(), DrawingPad(), widgets.Button(description="clear the pad")
    drawn = {"digit": None}  # the drawing in MNIST's form, while it replaces the test digit

    def update(_=None):
        digit = drawn["digit"]
        shown = (digit[None, :, :, None], 0) if digit is not None else (images, index.value)
        rows = compare_denoisers(models, *shown[:1], kind.value, level.value, shown[1], seed=seed)
        notes = ["" if value == math.inf else f"{value:.1f} dB" for _, value in rows.values()]
        titles = ["your drawing" if digit is not None and name == "clean" else name for name in rows]
        figure = plot_image_rows({"": np.stack([image for image, _ in rows.values()])}, num_images=len(rows),
                                 image_notes=titles, row_notes={"": notes}, image_size=1.2)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=2 * DEMO_DPI)
        plt.close(figure)  # drawn for the widget only, never shown by the inline backend
        picture.value = buffer.getvalue()
        picture.layout.width = f"{round(figure.get_figwidth() * DEMO_DPI)}px"  # half its pixels: sharp
        what = "your drawing" if digit is not None else f"test image {index.value}"
        caption.value = (f"Showing {kind.value} noise, level {level.value:.2f}, {what}. If the picture stops "
                         "following the controls, the kernel has restarted: run the notebook again "
                         "(<i>Run → Run All Cells</i>).")

    def drew(change):
        ink = np.frombuffer(change.new, dtype=np.uint8)
        drawn["digit"] = to_mnist(ink.reshape(pad.size, pad.size)) if ink.any() else None
        update()

    def test_digit(_=None):
        drawn["digit"] = None
        update()

    update()  # checks the arguments before any widget is shown
    shuffle.on_click(lambda _: setattr(index, "value", int(rng.integers(len(images)))))
    clear.on_click(lambda _: setattr(pad, "pixels", b""))
    for control in (kind, level):
        control.observe(update, names="value")
    index.observe(test_digit, names="value")
    pad.observe(drew, names="pixels")
    drawing = widgets.VBox([widgets.HTML("Or draw a digit (mouse, pen or finger):"), pad, clear])
    demo = widgets.VBox([widgets.HBox([kind, level]), widgets.HBox([index, shuffle]), picture, caption, drawing])
    _show(demo, picture)
    return demo


def _show(demo, picture):
    """Display the demo, with its first picture for frontends that cannot run widgets."""
    try:  # Colab draws ipywidgets 8 only with its custom widget manager
        from google.colab import output
        output.enable_custom_widget_manager()
    except ImportError:
        pass
    # Saved with the notebook, this line is what a reader sees first when the demo cannot come back by itself.
    print("The live demo below needs this notebook's running kernel. Reopened later, it may show nothing or "
          "'Error displaying widget': run the notebook again (Run → Run All Cells).")
    view = {"version_major": 2, "version_minor": 0, "model_id": demo.model_id}
    display({"application/vnd.jupyter.widget-view+json": view, "image/png": base64.b64encode(picture.value).decode(),
             "text/plain": "An interactive demo; where widgets cannot run, its first picture."}, raw=True,
            metadata={"image/png": {"width": int(picture.layout.width.removesuffix("px"))}})


def to_mnist(image):
    """A drawing as MNIST shows a digit: float32, 28 x 28, values 0 to 1, ink bright on dark, peak ink 1.

    ``image``: a 2-D grey array of any size, ink bright on dark, values 0 to 1 or 0 to 255.
    """
    image = _checked_grey(image)
    if not image.any():
        raise ValueError("the drawing is empty (every pixel is 0): draw a digit first")
    rows, cols = np.nonzero(image)  # the faintest ink counts too, as in MNIST's 20 x 20 boxes
    digit = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]

    scale = BOX_SIZE / max(digit.shape)
    shape = tuple(max(1, round(side * scale)) for side in digit.shape)
    digit = resize(digit, shape, order=1, anti_aliasing=scale < 1)  # blurs before shrinking: smooth, no jagged edges
    digit /= digit.max()  # MNIST's darkest ink is 1 (254 or 255 of 255), however light the pen

    # Whole-pixel shift, as MNIST's: the centre of mass lands within half a pixel of CENTRE. A digit whose mass
    # sits far from its middle is stopped at the image's edge rather than cut off.
    centre_row, centre_col = ndimage.center_of_mass(digit)
    top = min(max(round(CENTRE - centre_row), 0), MNIST_SIZE - shape[0])
    left = min(max(round(CENTRE - centre_col), 0), MNIST_SIZE - shape[1])
    mnist = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    mnist[top:top + shape[0], left:left + shape[1]] = digit
    return mnist


def _checked_grey(image):
    """``image`` as float64, after checking that it is a finite 2-D grey image with values 0 to 255."""
    image = np.asarray(image)
    if image.dtype.kind not in "buif":  # booleans, unsigned and signed integers, floats
        raise TypeError(f"the image must hold numbers (integers or floats), not {image.dtype}")
    if image.ndim != 2:
        raise ValueError(f"the image must be 2-D (height, width) and grey, but its shape is {image.shape}")
    if image.size == 0:
        raise ValueError(f"the image has no pixels: its shape is {image.shape}")
    image = image.astype(np.float64)
    if not np.isfinite(image).all():
        raise ValueError("the image holds NaN or infinite values")
    if image.min() < 0 or image.max() > 255:
        raise ValueError(f"the image's values must be from 0 to 1 or 0 to 255, not {image.min()} to {image.max()}")
    return image


class DrawingPad(anywidget.AnyWidget):
    """A square canvas: black ink on white. After each stroke, ``pixels`` holds the ink, one byte a pixel."""

    _esm = """
    export default {
      render({ model, el }) {
        const size = model.get("size");
        const canvas = document.createElement("canvas");
        // The canvas keeps size x size pixels on any screen (high-DPI, zoomed): the bytes Python gets
        // do not depend on the screen; pointer positions are scaled to canvas pixels in at().
        canvas.width = canvas.height = size;
        canvas.className = "drawing-pad";
        const pen = canvas.getContext("2d", { willReadFrequently: true });
        pen.lineWidth = size / 9;  // a digit as tall as the pad ends up 2 to 3 pixels thick, with MNIST's ink
        pen.lineCap = pen.lineJoin = "round";
        let last = null;  // where the stroke being drawn is, or null between strokes

        const at = (event) => {
          const box = canvas.getBoundingClientRect();
          return [(event.clientX - box.left) * size / box.width, (event.clientY - box.top) * size / box.height];
        };
        canvas.addEventListener("pointerdown", (event) => {
          if (!event.isPrimary || event.button !== 0) return;  // one finger, left button or pen tip
          event.preventDefault();  // no text selection in the notebook
          canvas.setPointerCapture(event.pointerId);  // the stroke goes on, and ends, outside the canvas too
          last = at(event);
          pen.beginPath();
          pen.arc(...last, pen.lineWidth / 2, 0, 2 * Math.PI);  // a tap leaves a dot
          pen.fill();
        });
        canvas.addEventListener("pointermove", (event) => {
          if (last === null || !event.isPrimary) return;
          const point = at(event);
          pen.beginPath();
          pen.moveTo(...last);
          pen.lineTo(...point);
          pen.stroke();
          last = point;
        });
        const endStroke = (event) => {
          if (last === null || !event.isPrimary) return;
          last = null;
          const rgba = pen.getImageData(0, 0, size, size).data;
          const ink = new Uint8Array(size * size);
          for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3];  // opacity: 0 blank .. 255 full ink
          model.set("pixels", new DataView(ink.buffer));
          model.save_changes();
        };
        canvas.addEventListener("pointerup", endStroke);
        canvas.addEventListener("pointercancel", endStroke);

        // Shows the model's pixels: blank after Clear, and the drawing again when the view is rendered anew.
        const show = () => {
          if (last !== null) return;  // mid-stroke (an echo from the kernel): the stroke's end sends it all anyway
          const view = model.get("pixels");
          pen.clearRect(0, 0, size, size);
          if (!view || view.byteLength !== size * size) return;
          const ink = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
          const image = pen.createImageData(size, size);
          for (let i = 0; i < ink.length; i++) image.data[4 * i + 3] = ink[i];
          pen.putImageData(image, 0, 0);
        };
        show();
        model.on("change:pixels", show);
        el.appendChild(canvas);
        return () => model.off("change:pixels", show);
      }
    };
    """
    # touch-action: none lets a finger draw: otherwise the browser scrolls the notebook and cancels the stroke.
    _css = """
    .drawing-pad { background: white; outline: 1px solid #999; margin: 1px; cursor: crosshair; touch-action: none; }
    """
    size = traitlets.Int(280).tag(sync=True)
    # Row by row, size x size bytes of ink from 0 to 255; empty when the pad is blank.
    pixels = traitlets.Bytes(b"").tag(sync=True, **bytes_serialization)
