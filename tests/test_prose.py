"""The text is kept in step with the code, the outputs and the results.

* The claim guard (``tests/guard.py``, ``tests/claims.py``; ``pytest -m claims`` runs it alone): every comparison and
  every figure of the notebook's markdown, ``README.md`` and ``benchmarks/README.md`` lies inside a registered claim
  that holds its whole clause, and every claim's assertion and figures hold on the committed outputs and results. A
  planted wrong sentence of each kind fails it.
* The spreads, probe strengths and photo settings that the notebook quotes are the benchmarks'.
* Prose is markdown, not strings formatted by code; code lines fit a projector (ruff, 100 columns).
* Every exercise has a hint and a worked solution, and a check of what it claims (``tests/exercises.py``).
"""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import guard
from claims import CLAIMS, README_TIMES, WAIVERS, Claim, Run, markdown_table, mean_sd
from exercises import HINT_CHECKS, SOLUTION_CHECKS, exercises

NOTEBOOK_PATH = ROOT / "denoising_autoencoder.ipynb"


def notebook():
    return json.loads(NOTEBOOK_PATH.read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"])


def guard_problems(claims=CLAIMS, waivers=WAIVERS, **planted):
    """What the guard finds in the texts (``planted`` replaces the notebook's cells, README or benchmarks/README)."""
    problems, _, _ = guard.uncovered(guard.texts(**planted), [(c.where, c.fragment) for c in claims],
                                     [(w.where, w.fragment) for w in waivers])
    return problems


def failed_checks(run, claims=CLAIMS):
    """Each claim whose figures its source does not give, or whose check does not hold."""
    problems = []
    for claim in claims:
        try:
            written = [token.text for token in guard.tokens(claim.fragment) if token.kind == "figure"]
            if written and claim.figures is None:
                problems.append(f"{claim.where}: {claim.fragment!r}: its figures {written} have no source")
            elif claim.figures is not None and written != [str(figure) for figure in claim.figures(run)]:
                problems.append(f"{claim.where}: {claim.fragment!r}: the text says {written}, the source gives "
                                f"{[str(figure) for figure in claim.figures(run)]}")
            elif not claim.check(run):
                problems.append(f"{claim.where}: {claim.fragment!r}: the assertion does not hold")
        except Exception as error:  # a check that cannot run is a failed check too
            problems.append(f"{claim.where}: {claim.fragment!r}: {type(error).__name__}: {error}")
    return problems


# ---------------------------------------------------------------- the guard


@pytest.mark.claims
def test_every_comparison_and_figure_lies_in_a_claim():
    problems = guard_problems()
    assert not problems, "\n".join(problems)


@pytest.mark.claims
def test_every_claim_holds_and_gives_its_figures():
    # benchmarks/readme_commands.py times this test among the others: its own result is checked afterwards.
    timing = os.environ.get("README_TIMING") == "1"
    problems = failed_checks(Run(), [claim for claim in CLAIMS if not (timing and claim in README_TIMES)])
    assert not problems, "\n".join(problems)


@pytest.mark.claims
def test_the_waivers_are_few_and_say_why():
    assert len(WAIVERS) <= 10
    assert all(len(waiver.why.split()) >= 4 for waiver in WAIVERS)
    registered = [(claim.where, claim.fragment) for claim in CLAIMS] + [(w.where, w.fragment) for w in WAIVERS]
    assert len(registered) == len(set(registered)), "a fragment is registered twice"


@pytest.mark.claims
def test_every_text_is_read():
    _, _, counts = guard.uncovered(guard.texts(), [(c.where, c.fragment) for c in CLAIMS],
                                   [(w.where, w.fragment) for w in WAIVERS])
    assert set(counts) == {"notebook", "README", "benchmarks"}
    assert all(count["sentences"] > 50 for count in counts.values()), counts


def _with_cell(text):
    cells = notebook()["cells"]
    cells.append({"cell_type": "markdown", "metadata": {}, "source": [text]})
    return {"cells": cells}


def _appended(fragment, where, extra):
    """The text of ``where`` with ``extra`` written right after a registered fragment."""
    if where == "notebook":
        cells = notebook()["cells"]
        cell = next(cell for cell in cells if cell["cell_type"] == "markdown" and fragment in guard._prose(
            source(cell)).replace("\n", " "))
        cell["source"] = [source(cell).replace(fragment.split()[-1], fragment.split()[-1] + extra, 1)]
        return {"cells": cells}
    path = {"README": guard.README, "benchmarks": guard.BENCHMARKS}[where]
    return {where.lower(): path.read_text(encoding="utf-8").replace(fragment, fragment + extra, 1)}


READ_ME = guard.README.read_text(encoding="utf-8")
BENCH = guard.BENCHMARKS.read_text(encoding="utf-8")
# Each kind of wrong sentence, planted in a copy of the texts, and the word that the guard must then name.
PLANTED = {
    "a reversed verdict": (_with_cell("Our autoencoder and the U-Net do not tie: the U-Net leads by 0.18 dB."), "leads"),
    "an unlisted ranking verb": (_with_cell("Non-local means outscores every network on these digits."), "outscores"),
    "a question with its answer": (_with_cell("Does the median filter beat our autoencoder? Yes, by far."), "beat"),
    "a figure in inline code": (_with_cell("The autoencoder's test PSNR is `35.10` dB."), "35.10"),
    "a wrong integer with a unit": (_with_cell("The autoencoder trains for 9 epochs."), "9"),
    "a wrong clause appended to a registered sentence": (_appended(
        "The digit model makes the photos worse than it found them", "notebook", ", and beats every filter"), "beats"),
    "a wrong sentence in README outside Results": ({
        "readme": READ_ME.replace("## Quick start", "The U-Net is three times faster than the keras.io model.\n\n"
                                                    "## Quick start", 1)}, "faster"),
    "a wrong sentence in benchmarks/README.md": ({
        "benchmarks": BENCH.replace("## What is reproducible", "BM3D loses to the photo U-Net on every photo.\n\n"
                                                               "## What is reproducible", 1)}, "loses"),
}


@pytest.mark.claims
@pytest.mark.parametrize("kind", list(PLANTED))
def test_the_guard_fails_on_a_planted_wrong_sentence(kind):
    planted, word = PLANTED[kind]
    assert guard_problems() == [], "the committed texts must pass before a planted sentence can fail them"
    problems = guard_problems(**planted)
    assert any(f"'{word}' lies in no registered claim" in problem for problem in problems), (kind, problems)


@pytest.mark.claims
def test_a_reversed_subject_around_a_registered_clause_fails():
    """A fragment must hold the whole clause: "X leads Y" with another X is outside it."""
    fragment = "the U-Net leads our autoencoder by 0.34 dB of validation PSNR"
    cells = notebook()["cells"]
    cell = next(cell for cell in cells if fragment in " ".join(source(cell).split()))
    text = " ".join(source(cell).split()).replace(fragment, "our autoencoder leads the U-Net by 0.34 dB of validation "
                                                            "PSNR")
    cell["source"] = [text]
    assert guard_problems(cells=cells)


@pytest.mark.claims
def test_a_flipped_sign_fails_its_claim():
    """The photo U-Net trails on the coins: the same figure written as a lead does not match its source."""
    planted = [Claim(claim.where, claim.fragment.replace("it trailed by 0.13", "it led by 0.13"), claim.check,
                     claim.figures) for claim in CLAIMS if "it trailed by 0.13" in claim.fragment]
    assert planted
    assert guard_problems(cells=_appended_sign()["cells"], claims=[*CLAIMS, *planted])


def _appended_sign():
    cells = notebook()["cells"]
    cell = next(cell for cell in cells if "it trailed by 0.13" in " ".join(source(cell).split()))
    cell["source"] = [" ".join(source(cell).split()).replace("it trailed by 0.13", "it led by 0.13")]
    return {"cells": cells}


@pytest.mark.claims
def test_a_misquoted_figure_fails_its_claim():
    claim = next(claim for claim in CLAIMS if claim.fragment.startswith("Over 3 seeds"))
    wrong = Claim(claim.where, claim.fragment.replace("0.87", "0.97"), claim.check, claim.figures)
    assert failed_checks(Run(), [wrong]) and not failed_checks(Run(), [claim])


@pytest.mark.claims
def test_a_check_that_fails_is_reported():
    claim = next(claim for claim in CLAIMS if claim.fragment.startswith("The digit model makes the photos worse"))
    assert failed_checks(Run(), [Claim(claim.where, claim.fragment, lambda run: False)])


# ---------------------------------------------------------------- figures the notebook copies


def test_the_spreads_that_each_chapter_quotes_are_the_benchmarks():
    run = Run()
    networks = {name: mean_sd(cells[0])[1] for name, cells in markdown_table(run.report("probe_spread.json")).items()
                if name is not None}
    experiments = markdown_table(run.report("probe_spread.json"), heading="Part 2's experiment models")
    tests = experiments[None]

    def sd(model, test):
        return mean_sd(experiments[model][tests.index(test)])[1]

    assert run.constant("spread", "NETWORK_SPREAD") == {
        name: networks[name] for name in ("keras.io baseline", "our autoencoder", "U-Net", "residual (DnCNN-style)")}
    assert run.constant("filter-comparison", "FILTER_SPREAD") == {
        "best filter": networks["best classical filter"], "our autoencoder": networks["our autoencoder"]}
    for test, spreads in run.constant("blind-comparison", "EXPERIMENT_SPREAD").items():
        assert spreads == {name: sd(name, test) for name in spreads}, test
    noise2noise = run.constant("noise2noise-comparison", "NOISE2NOISE_SPREAD")
    assert noise2noise == {"clean targets": sd("gaussian 0.5", "gaussian 0.5"),
                           **{name: sd(name, "gaussian 0.5") for name in noise2noise if name != "clean targets"}}
    photo = markdown_table(run.report("photo_sweep.json"), heading="Test photos, scored once")
    assert run.constant("photo-table", "PHOTO_GAP_SPREAD") == mean_sd(photo["photo U-Net minus best filter"][-1])[1]


def test_the_probe_strengths_are_the_ones_chosen_on_validation():
    run = Run()
    chosen = {name: row["chosen"] for name, row in run.result("probe_linear-probe.json")["rows"].items()}
    assert run.constant("probe-table", "PROBE_C") == chosen


def test_the_benchmarks_read_the_notebooks_settings():
    """probes.py and photos.py run what the notebook runs: their copies of its settings are its settings."""
    import utils
    from benchmarks import photos, probes
    from validation import DEFAULTS

    run = Run()
    assert probes.NOTEBOOK["train_size"] == DEFAULTS["TRAIN_SIZE"]
    assert probes.NOTEBOOK["epochs"] == DEFAULTS["NUM_EPOCHS"]
    assert probes.NOTEBOOK["test_size"] == DEFAULTS["TEST_SIZE"]
    assert probes.NOTEBOOK["experiment_train_size"] == DEFAULTS["EXPERIMENT_TRAIN_SIZE"]
    assert probes.NOTEBOOK["kind_levels"] == DEFAULTS["KIND_LEVELS"]
    # The sweep's name for the notebook's recipe, and the recipe that train_denoiser runs by default.
    assert probes.TUTORIAL_LABEL == (f"warm-up 10% + cosine, peak {DEFAULTS['LEARNING_RATE']:.0e}, "
                                     f"batch {DEFAULTS['BATCH_SIZE']}").replace("e-0", "e-")
    assert (utils.BATCH_SIZE, utils.PEAK_LEARNING_RATE) == (DEFAULTS["BATCH_SIZE"], DEFAULTS["LEARNING_RATE"])
    split = run.constant("photo-split", "photo_split")
    assert (list(photos.TRAINING_PHOTOS), list(photos.VALIDATION_PHOTOS), list(photos.TEST_PHOTOS)) == (
        split["training"], split["validation"], split["test"])
    assert {method: tuple(grid) for method, grid in photos.PHOTO_GRIDS.items()} == run.constant(
        "photo-tuning", "photo_grids")
    assert photos.PHOTO_NOISE_SIGMA == DEFAULTS["PHOTO_NOISE_SIGMA"]


# ---------------------------------------------------------------- prose and code


def test_prose_is_markdown_not_formatted_strings():
    code = [source(cell) for cell in notebook()["cells"] if cell["cell_type"] == "code"]
    assert not [cell for cell in code if "display(Markdown" in cell]


def test_code_cells_fit_a_projector():
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--extend-select", "E501", "--line-length",
                           "100", "--output-format", "concise", "--no-cache", str(NOTEBOOK_PATH)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def test_every_exercise_has_a_hint_a_solution_and_a_check():
    found = exercises(notebook())
    numbers = [number for number, _, _ in found]
    assert numbers == list(range(1, len(found) + 1)) and len(found) >= 10
    assert set(SOLUTION_CHECKS) == set(numbers) and set(HINT_CHECKS) <= set(numbers)
    for number, spans, solution in found:
        assert spans, f"exercise {number}: its hint has no code to run"
        compile(solution, f"<exercise {number}>", "exec")


@pytest.mark.parametrize("span", ["history['val_psnr']", 'loss="mean_absolute_error"',
                                  "from sklearn.metrics import confusion_matrix"])
def test_hint_code_keeps_expressions_arguments_and_imports(span):
    from exercises import hint_code

    assert "raise" not in hint_code([span])


def test_hint_code_that_cannot_run_fails_its_item():
    from exercises import hint_code

    assert hint_code(["the for loop"]).startswith("raise SyntaxError")


def test_copy_of_the_planted_cells_leaves_the_notebook_alone():
    before = notebook()
    copy.deepcopy(PLANTED)
    assert notebook() == before


@pytest.mark.claims
def test_the_timing_run_leaves_out_only_the_claims_on_its_own_result():
    from benchmarks import readme_commands

    timed = readme_commands.readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(README_TIMES) == 1 + len(timed)  # the column's header and each time in it
    assert all(claim.where == "README" for claim in README_TIMES)
