"""The notebook's prose is kept in step with its code and its outputs.

* Every figure in its markdown (a number with a decimal point, or a percentage) is printed by the committed
  outputs, is a setting or example in the code, or, in a cell that cites ``benchmarks/README.md``, stands
  there: a rerun that changes a result cannot leave a sentence behind unnoticed.
* The converged U-Net figure that the conclusion quotes is the benchmark's.
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
from exercises import HINT_CHECKS, SOLUTION_CHECKS, exercises
from test_readme import output_text as printed  # what a code cell printed, as README's test reads it

NOTEBOOK_PATH = ROOT / "denoising_autoencoder.ipynb"
BENCHMARKS = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
FIGURE = re.compile(r"(?<![\w.])\d[\d,]*\.\d+%?|(?<![\w.])\d+%")


def notebook():
    return json.loads(NOTEBOOK_PATH.read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"])


def prose(cell):
    """A markdown cell without its code (fenced or inline) and its mathematics."""
    text = re.sub(r"```.*?```", " ", source(cell), flags=re.DOTALL)
    text = re.sub(r"`[^`]*`", " ", text)
    return re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.DOTALL)


def unsupported_figures(cells):
    outputs = "\n".join(printed(cell) for cell in cells if cell["cell_type"] == "code")
    code = "\n".join(source(cell) for cell in cells if cell["cell_type"] == "code")
    missing = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        sources = [outputs, code] + ([BENCHMARKS] if "benchmarks/README.md" in source(cell) else [])
        for figure in FIGURE.findall(prose(cell)):
            if not any(figure in text for text in sources):
                missing.append(f"cell {index}: {figure}")
    return missing


def test_every_figure_in_the_markdown_is_printed_set_or_cited():
    cells = notebook()["cells"]
    assert len([figure for cell in cells if cell["cell_type"] == "markdown"
                for figure in FIGURE.findall(prose(cell))]) >= 20
    missing = unsupported_figures(cells)
    assert not missing, f"figures in the markdown that no output, setting or benchmark gives: {missing}"


def test_the_figure_check_catches_a_figure_that_the_run_does_not_print():
    cells = notebook()["cells"]
    cells.append({"cell_type": "markdown", "metadata": {}, "source": ["The U-Net reached 97.13 dB."]})
    assert unsupported_figures(cells) == [f"cell {len(cells) - 1}: 97.13"]


def test_the_converged_unet_figure_is_the_benchmarks():
    (conclusion,) = [source(cell) for cell in notebook()["cells"] if "conclusion" in cell["metadata"].get("tags", [])]
    quoted = re.search(r"^CONVERGED_UNET_PSNR = (\d+\.\d+)", conclusion, re.MULTILINE).group(1)
    measured = re.search(r"every epoch: \*\*(\d+\.\d+) dB\*\* at the end", BENCHMARKS).group(1)
    assert quoted == measured


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
