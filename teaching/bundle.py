"""The students' bundle, in one command: the students' copy of the notebook, the helper modules and the trained models.

    python teaching/bundle.py                        # writes denoising_students.zip, after a default run
    python teaching/bundle.py --output class.zip

Run the notebook once in default mode first (it trains and saves every model of part 2 in ``models/``). The bundle
holds:

* ``denoising_autoencoder_student.ipynb``: the notebook without the worked solutions and without outputs, with
  ``REUSE_SAVED_MODELS = True``, so that a student's *Run All* loads part 2's models instead of training them
  (part 1's autoencoder still trains, live: it takes well under a minute);
* ``utils.py``, ``validation.py``, ``demo.py`` and ``requirements.txt``;
* ``models/``: part 2's trained models, from the default run.

Unpack it anywhere, install the requirements, open the notebook. ``python teaching/minutes.py --prepared`` builds
it, runs the students' copy from it in an empty folder, and writes its size and that run's minutes to TEACHING.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from validation import DEFAULTS

NOTEBOOK = ROOT / "denoising_autoencoder.ipynb"
STUDENT_NOTEBOOK = "denoising_autoencoder_student.ipynb"
FILES = ("utils.py", "validation.py", "demo.py", "requirements.txt")
REUSE_LINE = "REUSE_SAVED_MODELS = False"
# Part 1's autoencoder trains live in class; these are the models that part 2 loads when it may reuse them.
MODELS = ("keras_io.keras", "unet.keras", "residual.keras", "photo_unet.keras", "experiment *.keras",
          "noise2noise *.keras")
README = """# Denoising with an autoencoder: the students' copy

Install once: `pip install -r requirements.txt` (Python 3.11 to 3.13). Then open
`denoising_autoencoder_student.ipynb` in JupyterLab, Jupyter Notebook, VS Code or Colab and run it.
The trained models of part 2 are in `models/`, so *Run All* loads them instead of training them.
"""


def default_model_folder(root=ROOT):
    """The folder where a default run saves its models, as the notebook names it."""
    return root / "models" / f"{DEFAULTS['NOISE_KIND']}_{DEFAULTS['NOISE_LEVEL']}_{DEFAULTS['TRAIN_SIZE']}_images"


def students_copy(notebook):
    """The notebook without solution cells and outputs, reusing the saved models: a new notebook."""
    copy = nbformat.from_dict(json.loads(json.dumps(notebook)))
    copy.cells = [cell for cell in copy.cells if "solution" not in cell.metadata.get("tags", [])]
    parameters = [cell for cell in copy.cells if "parameters" in cell.metadata.get("tags", [])]
    if len(parameters) != 1 or REUSE_LINE not in parameters[0].source:
        raise SystemExit(f"the notebook should have one cell tagged 'parameters' with the line {REUSE_LINE!r}")
    parameters[0].source = parameters[0].source.replace(REUSE_LINE, "REUSE_SAVED_MODELS = True", 1)
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    copy.metadata.pop("widgets", None)
    copy.metadata.pop("teaching", None)
    return copy


def model_files(folder):
    """Part 2's saved models in ``folder``; SystemExit, saying what to do, when one is missing."""
    if not folder.is_dir():
        raise SystemExit(f"there is no folder models/{folder.name}: run the notebook once in default mode first, so "
                         "that it trains and saves the models")
    found = sorted({path for pattern in MODELS for path in folder.glob(pattern) if not path.name.endswith(
        ".partial.keras")})
    missing = [pattern for pattern in MODELS if not any(path.match(pattern) for path in found)]
    if missing:
        raise SystemExit(f"{folder.name} has no {', '.join(missing)}: run the whole notebook once in default mode")
    return found


def make_bundle(output, *, root=ROOT, models=None):
    """Write the bundle to ``output`` (a .zip); return its path."""
    output = Path(output)
    folder = default_model_folder(root) if models is None else Path(models)
    saved = model_files(folder)
    notebook = students_copy(nbformat.read(root / NOTEBOOK.name, as_version=4))
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(STUDENT_NOTEBOOK, nbformat.writes(notebook))
        archive.writestr("README.md", README)
        for name in FILES:
            archive.write(root / name, name)
        for path in saved:
            archive.write(path, f"models/{folder.name}/{path.name}")
    return output


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "denoising_students.zip", help="the .zip to write")
    arguments = parser.parse_args(argv)
    path = make_bundle(arguments.output)
    with zipfile.ZipFile(path) as archive:
        count = len(archive.namelist())
    print(f"Wrote {path.name}: {count} files, {path.stat().st_size / 1e6:.1f} MB.")


if __name__ == "__main__":
    main()
