"""The notebook's prose is kept in step with its code and its outputs.

* Every sentence of the notebook's markdown, README's Results section and ``benchmarks/README.md``'s notes on the
  notebook that compares, ranks or states a direction, and every figure, is covered by a claim of
  ``tests/claims.py``: a fragment of its text and an assertion on the committed outputs. A figure must come from
  its claim's source, at the precision printed there.
* The spreads that the notebook's chapters quote are the benchmark's.
* Prose is markdown, not strings formatted by code; code lines fit a projector (ruff, 100 columns).
* Every exercise has a hint and a worked solution, and a check of what it claims (``tests/exercises.py``).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from claims import (CLAIMS, COMPARATIVE, FIGURE, Run, benchmarks_notes, exercise_texts, notebook_texts, readme_results,
                    sentences)
from exercises import HINT_CHECKS, SOLUTION_CHECKS, exercises

NOTEBOOK_PATH = ROOT / "denoising_autoencoder.ipynb"
BENCHMARKS = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
# Where claims are made, and whether their figures need a source too: an exercise's figures are its settings, and
# benchmarks/README.md's are its scripts' output, on the same page.
WHERE = {"notebook": (notebook_texts, True), "exercise": (exercise_texts, False),
         "README": (lambda cells: readme_results(), True), "benchmarks": (lambda cells: benchmarks_notes(), False)}


def notebook():
    return json.loads(NOTEBOOK_PATH.read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"])


def uncovered(cells, claims=CLAIMS):
    """Each comparative sentence or figure that no registered claim covers, and each claim that covers nothing."""
    problems, used = [], set()
    for where, (texts, figures_need_sources) in WHERE.items():
        mine = [claim for claim in claims if claim.where == where]
        for place, text in texts(cells):
            for sentence in sentences(text):
                covering = [claim for claim in mine if claim.fragment in sentence]
                used.update(id(claim) for claim in covering)
                if sentence.rstrip("*_").endswith("?"):  # a question claims nothing
                    continue
                if COMPARATIVE.search(sentence) and not covering:
                    problems.append(f"{place}: an unregistered comparison: {sentence!r}")
                covered = [figure for claim in covering for figure in FIGURE.findall(claim.fragment)]
                problems += [f"{place}: the figure {figure} has no registered source: {sentence!r}"
                             for figure in FIGURE.findall(sentence) if figure not in covered and figures_need_sources]
    problems += [f"{claim.where}: the registered fragment {claim.fragment!r} is no longer in the text"
                 for claim in claims if id(claim) not in used]
    return problems


def failed_checks(run, claims=CLAIMS):
    """Each claim whose figures its source does not give, or whose check does not hold on the committed run."""
    problems = []
    for claim in claims:
        try:
            expected = None if claim.figures is None else [str(figure) for figure in claim.figures(run)]
            if expected is not None and FIGURE.findall(claim.fragment) != expected:
                problems.append(f"{claim.where}: {claim.fragment!r}: the source gives {expected}")
            elif not claim.check(run):
                problems.append(f"{claim.where}: {claim.fragment!r}: the assertion does not hold")
        except Exception as error:  # a check that cannot run is a failed check too
            problems.append(f"{claim.where}: {claim.fragment!r}: {type(error).__name__}: {error}")
    return problems


def test_every_comparison_and_figure_in_the_text_is_registered():
    cells = notebook()["cells"]
    found = [sentence for _, text in notebook_texts(cells) for sentence in sentences(text)
             if COMPARATIVE.search(sentence) and not sentence.rstrip("*_").endswith("?")]
    assert len(found) >= 30
    problems = uncovered(cells)
    assert not problems, "\n".join(problems)


def test_every_registered_claim_holds_on_the_committed_run():
    problems = failed_checks(Run())
    assert not problems, "\n".join(problems)


def test_the_guard_catches_an_unregistered_comparison_a_stale_claim_and_a_misquoted_figure():
    cells = notebook()["cells"]
    cells.append({"cell_type": "markdown", "metadata": {}, "source": ["The U-Net beats every filter."]})
    assert uncovered(cells) == [(f"notebook cell {len(cells) - 1}: an unregistered comparison: "
                                "'The U-Net beats every filter.'")]
    cells[-1]["source"] = ["It reached 97.13 dB."]
    assert uncovered(cells) == [(f"notebook cell {len(cells) - 1}: the figure 97.13 has no registered source: "
                                "'It reached 97.13 dB.'")]
    from claims import Claim

    planted = Claim("notebook", "It reached 97.13 dB.", lambda run: True, figures=lambda run: ["97.31"])
    assert uncovered(cells, [*CLAIMS, planted]) == []
    assert failed_checks(Run(), [planted]) == ["notebook: 'It reached 97.13 dB.': the source gives ['97.31']"]


def _spreads_in_a_table(section, columns=None):
    """{row: {column: sd}} of the "mean ± sd" cells of the first Markdown table after ``section`` in
    benchmarks/README.md."""
    after = BENCHMARKS.split(section, 1)[1].splitlines()
    first = next(index for index, line in enumerate(after) if line.startswith("|"))
    lines = []
    for line in after[first:]:
        if not line.startswith("|"):
            break
        lines.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    header, body = lines[0], lines[2:]  # the second line is the rule
    return {row[0]: {column: float(cell.split("±")[1]) for column, cell in zip(header[1:], row[1:], strict=True)
                     if "±" in cell and (columns is None or column in columns)} for row in body}


def _constant(run, tag, name):
    """The value of ``name``, a literal that the cell tagged ``tag`` assigns."""
    import ast

    for node in ast.parse(run.code(tag)).body:
        if isinstance(node, ast.Assign) and [target.id for target in node.targets
                                             if isinstance(target, ast.Name)] == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"cell {tag!r} assigns no literal {name}")


def test_the_spreads_that_each_chapter_quotes_are_the_benchmarks():
    run = Run()
    networks = {name: spread["test PSNR (dB), mean ± sd"] for name, spread in _spreads_in_a_table("### The spread").items()}
    photos = _spreads_in_a_table("Test photos, scored once", columns=["mean"])
    experiments = _spreads_in_a_table("Part 2's experiment models")
    assert _constant(run, "spread", "NETWORK_SPREAD") == {
        name: networks[name] for name in ("keras.io baseline", "our autoencoder", "U-Net", "residual (DnCNN-style)")}
    assert _constant(run, "filter-comparison", "FILTER_SPREAD") == {
        "best filter": networks["best classical filter"], "our autoencoder": networks["our autoencoder"]}
    assert _constant(run, "photo-table", "PHOTO_SPREAD") == {
        "photo U-Net": photos["photo U-Net"]["mean"], "best photo filter": photos["best tuned filter"]["mean"]}
    for test, spreads in _constant(run, "blind-comparison", "EXPERIMENT_SPREAD").items():
        assert spreads == {name: experiments[name][test] for name in spreads}, test
    noise2noise = _constant(run, "noise2noise-comparison", "NOISE2NOISE_SPREAD")
    assert noise2noise == {"clean targets": experiments["gaussian 0.5"]["gaussian 0.5"],
                           **{name: experiments[name]["gaussian 0.5"] for name in noise2noise if name != "clean targets"}}


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
