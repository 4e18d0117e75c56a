"""Hypothesis throws generated bad and edge-case inputs at the public functions of utils.py.

Each call must either work correctly (the documented shape, dtype and range, finite values) or raise the
documented error: a ValueError, or a TypeError for a wrong type, whose message says what the argument
must be. Never an IndexError, ZeroDivisionError, OverflowError or MemoryError from deep inside a library,
and never a silently wrong result. Derandomized, so CI sees the same examples every run.
"""

import math
import sys
import tempfile
import traceback
from pathlib import Path

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import utils

FUZZ = settings(derandomize=True, deadline=None, max_examples=60,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FEW = settings(FUZZ, max_examples=15)


OUR_CODE = ("utils.py", "validation.py")


def documented_error(call):
    """Run ``call``; return its result, or None if it raised the documented error, and fail on any other.

    Documented: a ValueError or TypeError raised by the tutorial's own checks (the last frame is in utils.py
    or validation.py, not deep inside a library), whose message names what was wrong.
    """
    try:
        return call()
    except (ValueError, TypeError) as error:
        raised_in = Path(traceback.extract_tb(error.__traceback__)[-1].filename).name
        assert raised_in in OUR_CODE, f"{type(error).__name__} from inside {raised_in}: {error}"
        assert len(str(error)) > 20, f"{type(error).__name__} without a clear message: {error!r}"
        return None


# Odd shapes, dtypes, NaN and inf, empty arrays.
ANY_NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**400, 10**400),
                       st.sampled_from([1e-200, 1e-6, 1e6, 1e300, 0.0, -0.0, 0.5, 1.0, True]))
ANY_ARRAY = hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.float16, np.uint8, np.int64, np.bool_,
                                              np.complex64]),
                       shape=hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=6))  # any values, NaN too
IMAGES = st.one_of(
    ANY_ARRAY,
    hnp.arrays(np.float32,
               st.tuples(st.integers(0, 3), st.integers(1, 12), st.integers(1, 12), st.sampled_from([1, 3])),
               elements=st.floats(-0.5, 1.5, width=32)),
    hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 12), st.integers(1, 12)),
               elements=st.floats(0, 1) | st.sampled_from([np.nan, np.inf])),
    st.sampled_from([None, "images.png", [[0.1, 0.2], [0.3]], {"images": 1}, 3.0]),
)
SEEDS = st.one_of(st.none(), st.integers(-3, 2**70), st.floats(), st.text(max_size=3),
                  st.tuples(st.integers(-2, 10), st.integers(-2, 10)), st.just(()), st.just([1, 2.5]))


GREY = np.full((2, 8, 8, 1), 0.5, np.float32)


@FUZZ
@given(images=IMAGES, kind=st.one_of(st.sampled_from(utils.NOISE_KINDS), st.text(max_size=8), st.none()),
       level=st.one_of(ANY_NUMBER, st.lists(st.floats(-1, 2), max_size=4), st.text(max_size=3)), seed=SEEDS)
@example(images=GREY, kind="poisson", level=1e-200, seed=0)  # 1 / level**2 photons: a division by zero
@example(images=GREY, kind="poisson", level=1e-6, seed=0)  # 10**12 photons
@example(images=GREY, kind="gaussian", level=1e300, seed=0)  # inf in float32
@example(images=GREY, kind="speckle", level=10**400, seed=0)  # too large for a float
@example(images=GREY, kind="gaussian", level=0.5, seed=2**70)  # a huge seed is fine
def test_add_noise_works_or_says_what_is_wrong(images, kind, level, seed):
    noisy = documented_error(lambda: utils.add_noise(images, kind, level, seed=seed))
    if noisy is not None:
        original = np.asarray(images)
        assert noisy.shape == original.shape and noisy.dtype == np.float32
        assert np.isfinite(noisy).all() and 0.0 <= noisy.min() and noisy.max() <= 1.0
        if np.ndim(level) == 0 and float(level) == 0.0:
            np.testing.assert_array_equal(noisy, original.astype(np.float32))


@FUZZ
@given(clean=IMAGES, restored=IMAGES, data_range=ANY_NUMBER | st.text(max_size=2))
def test_metrics_work_or_say_what_is_wrong(clean, restored, data_range):
    for metric in (utils.mse, lambda a, b: utils.psnr(a, b, data_range=data_range), utils.ssim):
        values = documented_error(lambda metric=metric: metric(clean, restored))
        if values is not None:
            assert values.shape == (len(np.asarray(clean)),) and values.dtype == np.float64
            assert not np.isnan(values).any()


@FUZZ
@given(images=IMAGES, method=st.one_of(st.sampled_from(list(utils.CLASSICAL_FILTERS)), st.text(max_size=6),
                                        st.lists(st.just("median"), max_size=1)),
       strength=st.one_of(ANY_NUMBER, st.sampled_from([3, 5, 4, 10**9 + 1, 99, 101]), st.text(max_size=2)))
def test_classical_filters_work_or_say_what_is_wrong(images, method, strength):
    restored = documented_error(lambda: utils.classical_denoise(images, method, strength))
    if restored is not None:
        assert restored.shape == np.asarray(images).shape and restored.dtype == np.float32
        assert np.isfinite(restored).all() and 0.0 <= restored.min() and restored.max() <= 1.0


@pytest.fixture(scope="module")
def unet():
    keras.utils.set_random_seed(0)
    return utils.build_unet(filters=(2, 2, 2))


@FEW
@given(image=st.one_of(
    hnp.arrays(st.sampled_from([np.float32, np.float64, np.uint8, np.int32, np.uint16]),
               hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=9),
               elements=None),
    hnp.arrays(np.float64, st.tuples(st.integers(1, 9), st.integers(1, 9)), elements=st.floats(0, 1)),
    st.sampled_from([None, 5, b"bytes", "", ".", "missing.png", Path("no/such/file.jpg")])))
def test_denoise_image_works_or_says_what_is_wrong(unet, image):
    restored = documented_error(lambda: utils.denoise_image(unet, image))
    if restored is not None:
        assert restored.shape == np.shape(image) and restored.dtype == np.float32
        assert np.isfinite(restored).all() and 0.0 <= restored.min() and restored.max() <= 1.0


SIDES = st.one_of(st.none(), st.integers(-4, 33), st.floats(0, 30), st.text(max_size=2))


@FEW
@given(builder=st.sampled_from([utils.build_autoencoder, utils.build_baseline_autoencoder, utils.build_unet,
                                utils.build_residual_denoiser]),
       input_shape=st.one_of(st.tuples(SIDES, SIDES, st.sampled_from([1, 3, None])), st.tuples(SIDES, SIDES),
                             st.text(max_size=3), st.none()))
def test_builders_work_or_say_what_is_wrong(builder, input_shape):
    model = documented_error(lambda: builder(input_shape=input_shape))
    if model is not None:
        sides = [side if side is not None else 8 for side in input_shape[:2]]
        output = model(np.zeros((1, *sides, 1), np.float32))
        assert tuple(output.shape) == (1, *sides, 1)


@FEW
@given(contents=st.one_of(st.binary(max_size=200), st.just(b"PK\x03\x04" + b"\x00" * 40)),
       name=st.sampled_from(["mnist.npz", "model.keras", "notes.txt", "image.png"]))
def test_files_with_any_bytes_are_refused_clearly(contents, name):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(contents)
        assert documented_error(lambda: utils.load_mnist(path, verbose=False)) is None
        assert documented_error(lambda: utils.load_denoiser(path)) is None
        assert documented_error(lambda: utils.denoise_image(utils.build_residual_denoiser(), path)) is None


@FUZZ
@given(path=st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=4), st.just(""), st.just("."),
                      st.text(max_size=12).map(lambda text: text + ".keras")),
       image_shape=st.one_of(st.tuples(SIDES, SIDES, st.integers(-1, 3)), st.tuples(st.integers(1, 40)),
                             st.text(max_size=2)))
def test_loading_from_odd_paths_and_shapes_says_what_is_wrong(path, image_shape):
    assert documented_error(lambda: utils.load_denoiser(path, image_shape=image_shape)) is None
    if path is not None:
        assert documented_error(lambda: utils.load_mnist(path, verbose=False)) is None


@pytest.fixture
def fast_fit(monkeypatch):
    """Model.fit replaced by a recorder: the fuzzing checks the arguments, not the training."""
    calls = []

    def recording_fit(model, x, y, **keywords):
        calls.append((x, y, keywords))
        history = keras.callbacks.History()
        history.history = {"loss": [0.5], "psnr": [10.0]}
        return history

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    return calls


@FUZZ
@given(keywords=st.fixed_dictionaries({}, optional={
    "epochs": st.one_of(st.integers(-1, 2), st.floats(0, 2), st.none()),
    "batch_size": st.one_of(st.integers(-1, 64), st.text(max_size=2)),
    "seed": SEEDS,
    "learning_rate": ANY_NUMBER,
    "noise_kind": st.one_of(st.sampled_from(utils.NOISE_KINDS), st.text(max_size=4),
                            st.lists(st.sampled_from(utils.NOISE_KINDS), max_size=3), st.none()),
    "noise_level": st.one_of(ANY_NUMBER, st.lists(st.floats(-1, 2), max_size=4), st.just(np.float32(0.5))),
    "loss": st.sampled_from(["binary_crossentropy", "mean_squared_error", "hinge", 3]),
    "targets": st.sampled_from(["clean", "noisy", "both", None]),
    "clip_noisy_targets": st.sampled_from([True, False, 0, "no"]),
    "verbose": st.sampled_from([0, 1, 2, True, 0.5]),
    "validation_data": st.sampled_from([None, "images", (np.zeros((2, 8, 8, 1), np.float32),) * 2,
                                        (np.zeros((2, 12, 12, 1), np.float32),) * 2]),
}))
@example(keywords={"validation_data": "images"})
@example(keywords={"validation_data": (np.zeros((2, 12, 12, 1), np.float32),) * 2})
@example(keywords={"noise_level": np.float32(0.5)})  # used to fail in JSON, after an epoch, with a checkpoint
@example(keywords={"learning_rate": float("nan")})
def test_train_denoiser_checks_every_argument_before_training(fast_fit, keywords):
    fast_fit.clear()
    keras.utils.set_random_seed(0)
    model = utils.build_residual_denoiser(width=2, dilations=(1,))
    images = np.zeros((4, 8, 8, 1), np.float32)
    result = documented_error(lambda: utils.train_denoiser(model, images, **{"epochs": 1, "verbose": 0, **keywords}))
    if result is None:
        assert not fast_fit, "training started before a bad argument was refused"
    else:
        assert len(fast_fit) == keywords.get("epochs", 1)
        for inputs, targets, fit_keywords in fast_fit:
            assert inputs.shape == targets.shape == images.shape and np.isfinite(inputs).all()
            validation = fit_keywords.get("validation_data")
            assert validation is None or (len(validation) == 2 and validation[0].shape[1:] == images.shape[1:])


@FUZZ
@given(peak=ANY_NUMBER | st.text(max_size=2), total_steps=st.one_of(st.integers(-2, 10**6), st.floats(0, 5)))
def test_the_learning_rate_schedule_works_or_says_what_is_wrong(peak, total_steps):
    schedule = documented_error(lambda: utils.learning_rate_schedule(peak, total_steps))
    if schedule is not None:
        rates = [float(schedule(step)) for step in (0, total_steps // 2, total_steps)]
        assert all(math.isfinite(rate) and 0.0 <= rate <= peak * (1 + 1e-6) for rate in rates)
