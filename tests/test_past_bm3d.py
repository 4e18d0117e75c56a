"""Tests for benchmarks/past_bm3d.py: the 8 symmetries and the self-ensemble, the flipped and turned patches, its
arguments, and the whole run on tiny budgets, which must read the test photos only after all the training."""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import utils
import keras  # after utils, which starts TensorFlow quietly
from benchmarks import natural_photos, past_bm3d, photos


def test_the_eight_symmetries_differ_and_each_is_undone():
    image = np.arange(6 * 10, dtype=np.float32).reshape(6, 10) / 60
    turned = [past_bm3d.dihedral(image, index) for index in range(8)]
    assert len({(array.shape, array.tobytes()) for array in turned}) == 8
    for index, array in enumerate(turned):
        np.testing.assert_array_equal(past_bm3d.undo_dihedral(array, index), image)


def test_the_self_ensemble_of_an_identity_model_returns_the_image():
    model = utils.build_residual_denoiser(width=2, dilations=(1,))  # its last layer starts at zero: the identity
    image = np.random.default_rng(0).random((20, 28), dtype=np.float32)
    np.testing.assert_allclose(past_bm3d.denoise(model, image, ensemble=True), image, atol=1e-6)


def test_flipped_and_turned_patches_are_symmetries_of_the_plain_ones_and_reproducible():
    photo = [np.random.default_rng(1).random((40, 50), dtype=np.float32)]
    plain = utils.patch_sampler(photo, count=200, size=8, seed=3)
    patches = past_bm3d.augmented(utils.patch_sampler(photo, count=200, size=8, seed=3), seed=3)(0)
    np.testing.assert_array_equal(patches, past_bm3d.augmented(plain, seed=3)(0))
    which = [next(index for index in range(8) if np.array_equal(past_bm3d.dihedral(p, index, axes=(0, 1)), a))
             for p, a in zip(plain(0), patches, strict=True)]
    assert set(which) == set(range(8))


@pytest.mark.parametrize("arguments", [["--minutes", "0"], ["--select-minutes", "-1"], ["--minutes", "nan"],
                                       ["--minutes", "inf"], ["--candidates", "vgg"], ["--seeds"],
                                       ["--seeds", "42", "42"], ["--patches", "0"], ["--from-json", "no/such.json"]])
def test_bad_arguments_stop_with_a_message(arguments, capsys):
    with pytest.raises(SystemExit) as stopped:
        past_bm3d.parse_arguments(arguments)
    assert stopped.value.code == 2 and "error:" in capsys.readouterr().err


def test_past_bm3d_chooses_on_validation_and_reads_the_test_photos_only_after_all_training(tmp_path, monkeypatch,
                                                                                          capsys):
    monkeypatch.setattr(past_bm3d.benchmark, "run_in_fresh_process", lambda function, task: function(task))
    monkeypatch.setitem(sys.modules, "bm3d", None)  # as if not installed
    events = []
    noisy_test_photos = photos.noisy_test_photos
    monkeypatch.setattr(photos, "noisy_test_photos", lambda seed=42: events.append(("read", seed))
                        or noisy_test_photos(seed))
    train = past_bm3d.train_candidate

    def recording_train(task):
        row = train(task)
        events.append(("trained", task["label"], task["seed"]))
        return row

    monkeypatch.setattr(past_bm3d, "train_candidate", recording_train)
    labels = ["notebook-unet", "notebook-unet-flips"]
    result = past_bm3d.main(["--select-minutes", "0.02", "--minutes", "0.05", "--seeds", "42", "--patches", "64",
                             "--candidates", *labels, "--filters", "median", "gaussian_blur",
                             "--output-dir", str(tmp_path)])
    output = capsys.readouterr().out
    # Both candidates, then the chosen one; only then the test photos, and only seed 42's.
    best = max(result["stage_1"], key=lambda row: max(row["validation_psnr"], row["validation_psnr_ensemble"]))
    assert events[:3] == [("trained", labels[0], 42), ("trained", labels[1], 42), ("trained", best["label"], 42)]
    assert events[3:] and set(events[3:]) == {("read", 42)}
    assert result["chosen"] == best["label"]
    assert result["self_ensemble"] == (best["validation_psnr_ensemble"] > best["validation_psnr"])
    # Every epoch has its minutes and validation PSNR, every snapshot its test PSNR; the final model loads.
    trained, test = result["stage_2"][0], result["test"][0]
    assert len(trained["curve_minutes"]) == len(trained["curve_validation_psnr"]) == trained["epochs"] >= 1
    assert len(trained["snapshots"]) == len(trained["snapshot_minutes"]) == len(test["test_curve"]) >= 1
    assert trained["snapshot_minutes"][-1] == trained["curve_minutes"][-1]  # the last epoch is always kept
    assert all(Path(path).is_file() for path in trained["snapshots"])
    utils.load_denoiser(tmp_path / "past_bm3d_seed42.keras", image_shape=(256, 256, 1))
    assert set(test["psnr"]) >= {"noisy input", "model", "median", "gaussian_blur", "BM3D"}
    # Without bm3d: one clear line, a null in the JSON, and the run completes.
    assert "bm3d is not installed (pip install bm3d; free for non-commercial use only)" in output
    assert test["psnr"]["BM3D"] is None and result["bm3d_installed"] is False
    saved = json.loads((tmp_path / "past_bm3d.json").read_text())
    assert saved["chosen"] == result["chosen"] and saved["test"][0]["psnr"]["BM3D"] is None
    for header in ("| candidate | validation PSNR (dB) | with self-ensemble (dB) | epochs | minutes |",
                   "| method | camera | moon | coins | clock | mean |", "| BM3D | not installed |",
                   "| seed | best tuned filter (dB) | passed at | BM3D (dB) | passed at |"):
        assert header in output
    assert (tmp_path / "past_bm3d_curve.png").is_file()
    assert "Past BM3D by more than two standard deviations of the gap: not measured (bm3d is not installed)." in output
    # --from-json prints the same tables, without training or reading a photo; the file names no folder of this
    # machine (only the committed JSON goes into git).
    count = len(events)
    past_bm3d.main(["--from-json", str(tmp_path / "past_bm3d.json")])
    assert capsys.readouterr().out in output and len(events) == count
    assert str(tmp_path) not in (tmp_path / "past_bm3d.json").read_text()
    # --resume keeps every training of the interrupted run with the same settings: no training, the same choice.
    resumed = past_bm3d.main(["--select-minutes", "0.02", "--minutes", "0.05", "--seeds", "42", "--patches", "64",
                              "--candidates", *labels, "--filters", "median", "gaussian_blur",
                              "--output-dir", str(tmp_path), "--resume"])
    assert not [event for event in events[count:] if event[0] == "trained"]
    assert resumed["chosen"] == result["chosen"] and "kept from an earlier run" in capsys.readouterr().out


def test_the_clock_schedule_is_the_tutorials_schedule_with_the_budget_share_for_the_step():
    schedule, steps = past_bm3d.ClockSchedule(4e-3), 1_000
    by_steps = utils.learning_rate_schedule(4e-3, steps)
    for share in (0.0, 0.05, 0.1, 0.3, 0.55, 0.9, 1.0):
        schedule.spent.assign(share)
        np.testing.assert_allclose(float(schedule(0)), float(by_steps(round(share * steps))), atol=1e-6)
    schedule.spent.assign(1.5)  # past the budget: still zero, never negative
    assert float(schedule(0)) == pytest.approx(0.0, abs=1e-9)


def test_a_crossing_is_the_first_pass_and_says_when_the_curve_stays_above():
    minutes = [1.0, 2.0, 3.0, 4.0, 5.0]
    dips = past_bm3d.crossing(minutes, [30.0, 32.5, 31.0, 32.6, 32.7], target=32.0)
    assert (dips["minute"], dips["stays_above_from"]) == (2.0, 4.0)
    assert past_bm3d._crossing_text(dips, 5.0) == "2.0 min, above it for good from 4.0 min"
    steady = past_bm3d.crossing(minutes, [30.0, 32.5, 33.0, 33.1, 33.2], target=32.0)
    assert past_bm3d._crossing_text(steady, 5.0) == "2.0 min"
    above_from_the_start = past_bm3d.crossing(minutes, [32.1, 32.5, 33.0, 33.1, 33.2], target=32.0)
    assert past_bm3d._crossing_text(above_from_the_start, 5.0) == "1.0 min"
    falls = past_bm3d.crossing(minutes, [30.0, 32.5, 33.0, 33.1, 31.0], target=32.0)
    assert past_bm3d._crossing_text(falls, 5.0) == "2.0 min, then below it again"
    short = past_bm3d.crossing(minutes, [30.0, 31.0, 31.5, 31.7, 31.9], target=32.0)
    assert short["minute"] is None and short["short_by"] == pytest.approx(0.1)
    assert "0.10 dB short" in past_bm3d._crossing_text(short, 5.0)


def test_the_self_ensembles_gap_to_bm3d_is_extrapolated_at_the_plain_curves_rate():
    result = {"self_ensemble": True, "bm3d_installed": True,
              "test": [{"seed": 1, "psnr": {"BM3D": [30.0, 32.0], "model, self-ensemble": [30.9, 30.98]}},
                       {"seed": 2, "psnr": {"BM3D": [30.0, 32.0], "model, self-ensemble": [31.0, 31.2]}}],
              "crossings": [{"BM3D": {"slope": 0.02}}, {"BM3D": {"slope": None}}]}
    assert past_bm3d.ensemble_gap_lines(result)[-1] == (
        "With the self-ensemble, the final model against BM3D: seed 1: 0.06 dB short, about 3 min more at the "
        "plain curve's rate; seed 2: past BM3D by 0.10 dB.")
    assert past_bm3d.ensemble_gap_lines({**result, "bm3d_installed": False}) == []


# ---- The second attempt: natural photos from packages, the residual U-Net, L1 then MSE ----

INSTALLED = tuple(name for name in natural_photos.NATURAL_PHOTOS if not natural_photos.missing([name]))


def test_every_natural_photo_comes_from_a_pinned_package_and_loads_grey_in_0_1():
    pins = natural_photos.pinned_versions()
    assert {source.package.lower() for source in natural_photos.NATURAL_PHOTOS.values()} <= set(pins)
    assert not set(natural_photos.NATURAL_PHOTOS) & set(utils.PHOTOS)  # none is a scikit-image photo by name
    for name in ("aero", "china"):  # PyWavelets' grey .npz, scikit-learn's colour JPEG: both in requirements.txt
        photo = natural_photos.load(name)
        assert photo.dtype == np.float32 and photo.ndim == 2 and min(photo.shape) >= 256
        assert 0.0 <= photo.min() < 0.2 and 0.8 < photo.max() <= 1.0
    assert natural_photos.version_notes(["aero", "china"]) == []  # installed at their pins


def test_a_missing_photo_package_stops_the_run_before_any_training_and_says_how_to_install_it(monkeypatch, tmp_path):
    find_spec = natural_photos.importlib.util.find_spec
    monkeypatch.setattr(natural_photos.importlib.util, "find_spec",
                        lambda name: None if name == "sporco" else find_spec(name))
    with pytest.raises(natural_photos.MissingPhotoPackage,
                       match=r"'kodim23' ships in the sporco package, which is not installed: pip install --no-deps -r "
                             r"benchmarks/requirements-photos.txt \(it installs sporco==0\.2\.2\.post1"):
        natural_photos.load("kodim23")
    assert len(natural_photos.missing(natural_photos.NATURAL_PHOTOS)) == 1  # one message for sporco's five photos
    monkeypatch.setattr(past_bm3d, "train_candidate", lambda task: pytest.fail("trained without its photos"))
    with pytest.raises(SystemExit, match="sporco package, which is not installed") as stopped:
        past_bm3d.main(["--attempt", "2", "--output-dir", str(tmp_path)])
    assert "\n" not in str(stopped.value)  # one line for sporco's five photos
    assert past_bm3d._natural_photos(["levers-scikit-image-only", "wide-unet"]) == []  # these need no sporco
    # Another version of the package, without the file: named, with the version to install.
    monkeypatch.setattr(natural_photos.importlib.util, "find_spec", lambda name: SimpleNamespace(
        submodule_search_locations=[str(tmp_path)]))
    with pytest.raises(natural_photos.MissingPhotoPackage, match=r"sporco/data/sail\.png, which sporco .* does not "
                                                                 r"have: install sporco==0\.2\.2\.post1"):
        natural_photos.load("sail")
    monkeypatch.setattr(natural_photos, "installed_version", lambda package: "9.9")
    assert natural_photos.version_notes(["sail", "tulips"]) == [(
        "note: sporco 9.9 is installed, not the pinned 0.2.2.post1: the overlap check (python "
        "benchmarks/natural_photos.py) was made with the pinned version")]


def test_the_overlap_check_finds_a_rescaled_mirrored_crop_and_not_another_photo():
    from skimage.transform import rescale

    coins, scales = utils.load_photo("coins"), natural_photos.SCALES[::8]  # 1, 0.79, ... 1/4: fast
    crop = rescale(coins[40:260, 60:300][:, ::-1], scales[1], anti_aliasing=True)
    assert natural_photos.correlations(crop, coins, scales)["whole"] > 0.9
    assert natural_photos.max_correlation(utils.load_photo("brick"), coins, scales) < 0.7


def test_the_overlap_verdict_names_a_photo_as_close_as_a_copy_and_clears_the_others():
    def row(whole, tiles=0.3):
        return {"camera": {"whole": whole, "tiles": tiles}, "moon": {"whole": 0.2, "tiles": tiles}}

    found = {"aero (PyWavelets)": row(0.4, 0.7), "sail (sporco)": row(0.3), "camera copy (control)": row(0.95),
             "crop (control)": row(0.92)}
    assert natural_photos.verdict_line(found) == (
        "No photo is, or is cut from, a test or validation photo: 0.40 at most whole, against 0.92 and more for the "
        "copies (tiles: 0.70 at most; a tile can match a single edge or ring by chance).")
    found["sail (sporco)"] = row(0.93)
    assert natural_photos.verdict_line(found).startswith("As close to a test or validation photo as a copy is: "
                                                         "sail (sporco).")


def test_the_residual_unet_starts_as_the_identity_and_loads_safely(tmp_path):
    model = past_bm3d.build_residual_unet(filters=(2, 4, 8))
    image = np.random.default_rng(0).random((20, 28), dtype=np.float32)  # any size: padded to a multiple of 4
    np.testing.assert_allclose(utils.denoise_image(model, image), image, atol=1e-6)
    past_bm3d._save(model, tmp_path / "residual.keras")
    loaded = utils.load_denoiser(tmp_path / "residual.keras", image_shape=(256, 256, 1))  # safe mode: no Lambda
    assert loaded.name == "residual_unet" and loaded.get_layer("predicted_noise").activation.__name__ == "linear"
    np.testing.assert_allclose(utils.denoise_image(loaded, image), image, atol=1e-6)


def test_the_loss_turns_to_the_mse_after_the_epoch_that_reaches_its_share_and_adam_goes_on():
    model = utils.build_residual_denoiser(width=2, dilations=(1,))
    shares = iter([0.5, 0.85, 0.9])  # the budget spent after epochs 1, 2 and 3
    switch = past_bm3d.LossSwitch(lambda: next(shares), 0.8)
    losses = []
    recorder = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: losses.append(model.loss))
    images = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32)
    utils.train_denoiser(model, images, epochs=3, batch_size=8, loss="mean_absolute_error", noise_level=0.1,
                         callbacks=[recorder, switch], verbose=0)
    assert losses == ["mean_absolute_error", "mean_absolute_error", "mean_squared_error"]
    assert switch.switched_at == 0.85
    assert int(model.optimizer.iterations) == 3 * 2  # one optimizer throughout: its steps go on


def test_the_second_attempts_candidates_are_all_the_levers_and_each_left_out_once():
    arguments = past_bm3d.parse_arguments(["--attempt", "2"])
    assert arguments.candidates == list(past_bm3d.ATTEMPTS[2]) and arguments.stem == "past_bm3d_attempt2"
    assert past_bm3d.parse_arguments([]).candidates == list(past_bm3d.ATTEMPTS[1])  # the first attempt's, as before
    assert len(arguments.candidates) * past_bm3d.SELECT_MINUTES <= 30  # stage 1 within half an hour of training
    levers = past_bm3d.CANDIDATES["levers"]
    for label, (_, settings) in past_bm3d.WITHOUT.items():
        candidate = past_bm3d.CANDIDATES[label]
        assert {key for key in levers if candidate[key] != levers[key]} == {*settings, "about"}
        size, count, batch = candidate["size"], candidate["count"], candidate["batch_size"]
        assert size**2 * batch == 24**2 * 32 and size**2 * count == 24**2 * 16_000  # the notebook's pixels


def test_a_levers_candidate_trains_on_natural_photos_with_flips_l1_then_mse(monkeypatch):
    monkeypatch.setitem(past_bm3d.TRAINING_SETS, "both", (*photos.TRAINING_PHOTOS[:2], *INSTALLED[:3]))
    narrow = {**past_bm3d.CANDIDATES["levers"], "options": {"filters": (4, 8, 16)}}  # the plumbing, in less time
    monkeypatch.setitem(past_bm3d.CANDIDATES, "levers", narrow)
    row = past_bm3d.train_candidate({"label": "levers", "seed": 42, "minutes": 0.01, "patches": 16,
                                     "snapshots": None, "model_path": None})
    assert row["epochs"] >= 1 and np.isfinite(row["validation_psnr"]) and np.isfinite(row["validation_psnr_ensemble"])
    # The loss turns after the first epoch that ends past 80 % of the budget (which epoch that is depends on the
    # backend's speed: TensorFlow's first epoch, slowed by tracing, passes it at once, PyTorch's may not).
    turned = next((minute for minute in row["curve_minutes"] if minute >= 0.8 * 0.01), None)
    assert turned is not None and row["mse_from_minute"] == pytest.approx(turned)


def test_the_verdict_needs_the_gap_above_two_standard_deviations():
    def result(gaps, ensemble=True):
        name = "model, self-ensemble" if ensemble else "model"
        return {"bm3d_installed": True, "self_ensemble": ensemble,
                "test": [{"psnr": {name: [30.0 + gap, 32.0 + gap], "BM3D": [30.0, 32.0]}} for gap in gaps]}

    assert past_bm3d.verdict(result([0.10, 0.12, 0.14]))["passes"]  # 0.12 > 2 x 0.02
    assert not past_bm3d.verdict(result([0.01, 0.12, 0.20]))["passes"]  # 0.11 < 2 x 0.095
    assert not past_bm3d.verdict(result([-0.07, -0.06, -0.08], ensemble=False))["passes"]
    assert past_bm3d.verdict(result([0.1])) is None and past_bm3d.verdict({"bm3d_installed": False}) is None
    assert past_bm3d.verdict_lines(result([0.10, 0.12, 0.14]))[-1].startswith(
        "Past BM3D by more than two standard deviations of the gap: yes, the final model minus BM3D is +0.120 ± 0.020")
