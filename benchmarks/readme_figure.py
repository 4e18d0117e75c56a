"""Copy the README's picture out of an executed notebook: the figure of the cell tagged ``readme-figure``.

    python benchmarks/readme_figure.py                       # from the committed notebook
    python benchmarks/readme_figure.py executed/denoising_autoencoder.ipynb

It writes ``assets/denoising_examples.png`` (``--output`` for another file), so the picture on the README is
always one that the notebook drew, and the notebook needs no switch for it.
"""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAG = "readme-figure"


def figure_of_tagged_cell(notebook_path, tag=TAG):
    """The PNG bytes of the one figure that the cell tagged ``tag`` shows; SystemExit with a reason otherwise."""
    try:
        notebook = json.loads(Path(notebook_path).read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"cannot read the notebook {Path(notebook_path).name!r}: {error}") from None
    cells = [cell for cell in notebook.get("cells", []) if tag in cell.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise SystemExit(f"expected one cell tagged {tag!r} in {Path(notebook_path).name!r}, found {len(cells)}")
    figures = [output["data"]["image/png"] for output in cells[0].get("outputs", [])
               if "image/png" in output.get("data", {})]
    if len(figures) != 1:
        raise SystemExit(f"the cell tagged {tag!r} shows {len(figures)} figures, not one: run the notebook first")
    return base64.b64decode(figures[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", nargs="?", type=Path, default=ROOT / "denoising_autoencoder.ipynb",
                        help="an executed notebook (default: the committed one)")
    parser.add_argument("--output", type=Path, default=ROOT / "assets" / "denoising_examples.png",
                        help="where to write the PNG (default: assets/denoising_examples.png)")
    arguments = parser.parse_args(argv)
    png = figure_of_tagged_cell(arguments.notebook)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_bytes(png)
    print(f"Wrote {arguments.output.name} ({len(png) / 1000:.0f} kB) from {arguments.notebook.name}.")


if __name__ == "__main__":
    main()
