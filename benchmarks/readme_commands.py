"""Time README's quick-start commands, exactly as README writes them, in a fresh clone and a fresh virtual environment.

    python benchmarks/readme_commands.py    # about 25 minutes on a 2-core CPU

It clones this repository's last commit into a temporary folder, makes a virtual environment there with the Python
that runs this script, and runs, one after the other, each command of README's quick-start table that has a time:
the install, the headless run of the notebook and ``pytest``, the last one twice: without Chromium (``CHROMIUM=""``
makes the browser test skip) and with it, where it is installed. ``MNIST_PATH`` is passed on, as README says to.
It writes ``benchmarks/results/readme_commands.json``: the minutes of each, which the README's time column quotes
(``tests/claims.py`` checks it against them), and the machine's cores. A measurement cannot check its own result:
while it runs, ``README_TIMING=1`` tells the claim test to leave out the claims that quote this file, and only
those; every other test runs, and any failure stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def readme_commands(readme_text):
    """The commands of README's quick-start table that quote a time: ``[(command, time as written)]``."""
    table = readme_text.split("| command | what it does |", 1)[1].split("\n\n", 1)[0]
    rows = [re.match(r"\| `([^`]+)` \|.*\| ([^|]*) \|$", line) for line in table.splitlines()[2:]]
    return [(row.group(1), row.group(2).strip()) for row in rows if row and row.group(2).strip()]


def run(command, folder, environment):
    """Run ``command`` in the virtual environment in ``folder``; return its minutes. Stops on failure."""
    start = time.perf_counter()
    finished = subprocess.run(["bash", "-c", f"source .venv/bin/activate && {command}"], cwd=folder, env=environment,
                              capture_output=True, text=True, check=False)
    minutes = (time.perf_counter() - start) / 60
    tail = "\n".join((finished.stdout + finished.stderr).strip().splitlines()[-3:])
    print(f"{command}: {minutes:.1f} min, exit status {finished.returncode}\n  {tail}", flush=True)
    if finished.returncode:
        raise SystemExit(f"{command!r} failed: {tail}")
    return minutes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=Path, default=RESULTS, help="where to write readme_commands.json")
    arguments = parser.parse_args(argv)
    commands = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("VIRTUAL_ENV", "PYTHON"))}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="readme-commands-") as scratch:
        folder = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(folder)], check=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder / ".venv")], check=True)
        minutes = {}
        environment = {**environment, "README_TIMING": "1"}
        for command, _ in commands:
            if command.startswith("pip install"):
                minutes["install"] = run(command, folder, environment)
            elif command == "pytest":
                minutes["pytest"] = run(command, folder, {**environment, "CHROMIUM": ""})
                if shutil.which("chromium") or shutil.which("chromium-browser"):
                    minutes["pytest with the browser"] = run(command, folder, environment)
            else:
                minutes["run"] = run(command, folder, environment)
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True,
                                check=True).stdout.strip()
    result = {"commit": commit, "cores": os.cpu_count(), "python": platform.python_version(),
              "commands": [command for command, _ in commands], "minutes": minutes,
              "wall_seconds": time.perf_counter() - start}
    result["report"] = {"main": ["| command | minutes |", "| --- | ---: |",
                                 *(f"| {name} | {value:.1f} |" for name, value in minutes.items())]}
    arguments.output_dir.mkdir(parents=True, exist_ok=True)
    (arguments.output_dir / "readme_commands.json").write_text(json.dumps(result, indent=1))
    print("\n".join(result["report"]["main"]))
    return result


if __name__ == "__main__":
    main()
