"""Write the tables of ``benchmarks/README.md`` from the results files in ``benchmarks/results/``, or check them.

    python benchmarks/tables.py          # rewrite every generated block of benchmarks/README.md
    python benchmarks/tables.py --check  # fail if the page and the results files differ (the tests do)

Each benchmark writes a small JSON file into ``benchmarks/results/`` (committed; the models and snapshots beside it
are not), with its data and a ``report``: the Markdown of its tables, ``{block name: [lines]}``, as it printed them.
The page marks where each block goes::

    <!-- generated from results/probe_sweep.json (main) by python benchmarks/tables.py: do not edit -->
    ...
    <!-- end of results/probe_sweep.json (main) -->

A results file that a run before this one left only on the page, its raw data not kept, says so in
``transcribed``: the page then shows that line above its block.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = HERE / "README.md"
RESULTS = HERE / "results"
START = "<!-- generated from results/{file} ({block}) by python benchmarks/tables.py: do not edit -->"
END = "<!-- end of results/{file} ({block}) -->"
MARK = re.compile(r"<!-- generated from results/(\S+) \((\S+)\) by python benchmarks/tables.py: do not edit -->")


def blocks(page):
    """The (file, block) pairs that the page shows, in order."""
    return MARK.findall(page)


def render(file, block, results=RESULTS):
    """The Markdown of one block, from its results file."""
    path = results / file
    if not path.is_file():
        raise SystemExit(f"benchmarks/README.md shows results/{file}, which does not exist: run its benchmark")
    data = json.loads(path.read_text(encoding="utf-8"))
    report = data.get("report", {})
    if block not in report:
        raise SystemExit(f"results/{file} has no block {block!r} in its report (it has {', '.join(report)})")
    lines = list(report[block])
    if data.get("transcribed"):
        lines = [f"*{data['transcribed']}*", "", *lines]
    return "\n".join(lines)


def with_tables(page, results=RESULTS):
    """The page with every generated block written from its results file."""
    for file, block in blocks(page):
        start, end = START.format(file=file, block=block), END.format(file=file, block=block)
        if page.count(start) != 1 or page.count(end) != 1:
            raise SystemExit(f"benchmarks/README.md should hold {start!r} and {end!r} once each")
        before, rest = page.split(start)
        page = f"{before}{start}\n{render(file, block, results)}\n{end}{rest.split(end, 1)[1]}"
    return page


def unshown(page, results=RESULTS):
    """Results files that no block of the page shows."""
    shown = {file for file, _ in blocks(page)}
    return sorted(path.name for path in results.glob("*.json") if path.name not in shown)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the page differs from the results files")
    arguments = parser.parse_args(argv)
    page = PAGE.read_text(encoding="utf-8")
    updated = with_tables(page)
    if arguments.check:
        problems = ([] if updated == page else ["its tables differ from the results files"]) + [
            f"results/{name} is shown nowhere" for name in unshown(page)]
        if problems:
            raise SystemExit("benchmarks/README.md: " + "; ".join(problems) + ". Run python benchmarks/tables.py")
        print(f"benchmarks/README.md shows its {len(blocks(page))} blocks as the results files hold them.")
        return
    PAGE.write_text(updated, encoding="utf-8")
    print(f"Wrote {len(blocks(page))} blocks of benchmarks/README.md from benchmarks/results/.")


if __name__ == "__main__":
    main()
