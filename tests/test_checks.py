"""The notebook's quality checks: report_checks says what got worse and never raises for a worse model;
changed_settings names what a learner changed."""

import contextlib
import io
import math
import sys
from pathlib import Path

import keras
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import utils


def report(checks, changed=()):
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        assert utils.report_checks(checks, changed) is None
    return output.getvalue()


def test_passing_checks_print_one_line_whatever_their_number():
    assert report([("a", 2.0, 1.0)]) == "All quality checks passed.\n"
    assert report([("a", 2.0, 1.0), ("b", 5.0, 4.0, 6.0)]) == "All quality checks passed.\n"


def test_a_failure_says_what_by_how_much_and_what_changed():
    text = report([("gain (dB)", 6.5, 8.0), ("noisy PSNR (dB)", 10.4, 9.0, 10.0), ("fine", 3.0, 1.0)],
                  ["NUM_EPOCHS = 1 (default 4)"])
    assert text.splitlines() == [
        "Quality check failed: 2 of 3 measurements are worse than a working model gives.",
        "  - gain (dB): 6.50, expected more than 8.00 (1.50 short)",
        "  - noisy PSNR (dB): 10.40, expected more than 9.00 and less than 10.00 (0.40 over)",
        "You changed: NUM_EPOCHS = 1 (default 4).",
        "The notebook goes on, but from here its text describes the tutorial's run, not this one.",
    ]


def test_a_broken_model_fails_its_checks_instead_of_passing_them():
    for value in (math.nan, -math.inf):
        assert "Quality check failed: 1 of 1" in report([("PSNR (dB)", value, 8.0)])
    assert "You changed no parameter" in report([("PSNR (dB)", math.nan, 8.0)])


@pytest.mark.parametrize(("checks", "error", "message"), [
    ([], TypeError, "checks must be a non-empty list"),
    ("gain", TypeError, "checks must be a non-empty list"),
    ([("gain", 1.0)], TypeError, r"each check must be a tuple \(what, value, low\)"),
    ([(1.0, 2.0, 3.0)], TypeError, "each check must be a tuple"),
])
def test_malformed_checks_say_what_is_expected(checks, error, message):
    with pytest.raises(error, match=message):
        utils.report_checks(checks)


def test_changed_settings_compares_with_the_defaults_of_the_mode():
    assert utils.changed_settings(dict(utils.DEFAULTS)) == []
    assert utils.changed_settings({**utils.QUICK_DEFAULTS, "QUICK_MODE": True}) == []
    quick_run_in_default_mode = utils.changed_settings(dict(utils.QUICK_DEFAULTS))
    assert f"TRAIN_SIZE = {utils.QUICK_DEFAULTS['TRAIN_SIZE']} (default {utils.DEFAULTS['TRAIN_SIZE']})" in \
        quick_run_in_default_mode
    assert utils.changed_settings({"NOISE_LEVEL": 0.3, "unrelated": 1}) == ["NOISE_LEVEL = 0.3 (default 0.5)"]
    with pytest.raises(TypeError, match="namespace must be a dict"):
        utils.changed_settings(["NOISE_LEVEL"])


def test_changed_settings_names_the_autoencoders_size_and_loss():
    keras.utils.set_random_seed(0)
    model = utils.build_autoencoder()
    assert utils.changed_settings({"autoencoder": model}) == []  # not compiled yet: no loss to compare
    model.compile(loss="binary_crossentropy")
    assert utils.changed_settings({"autoencoder": model}) == []
    narrow = utils.build_autoencoder(filters=(8, 16, 32))
    narrow.compile(loss="mean_squared_error")
    assert utils.changed_settings({"autoencoder": narrow}) == [
        f"the autoencoder has {narrow.count_params():,} parameters (default 128,401)",
        "the autoencoder's loss is 'mean_squared_error' (default 'binary_crossentropy')"]
