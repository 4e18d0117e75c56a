"""Every chapter of part 2 runs on part 1 alone, and so do the conclusion, each lesson of TEACHING.md and each
exercise after what it says it needs: no cell reads a name that only another chapter defines.

The check reads the code (``teaching/chapters.py``), so it covers every path in a second; nbval runs the whole
notebook, in order, beside it.
"""

import copy
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "teaching"))
sys.path.insert(0, str(ROOT / "tests"))
import chapters
import minutes
from exercises import exercises, hint_code

NOTEBOOK = json.loads((ROOT / "denoising_autoencoder.ipynb").read_text(encoding="utf-8"))
CELLS = NOTEBOOK["cells"]
PARTS = chapters.parts(CELLS)


def test_the_notebook_has_part_1_and_seven_chapters():
    assert len(PARTS["chapters"]) == 7, list(PARTS["chapters"])
    assert chapters.path_problems(CELLS, PARTS["part 1"]) == []


@pytest.mark.parametrize("title", list(PARTS["chapters"]))
def test_each_chapter_runs_on_part_1_alone(title):
    assert chapters.path_problems(CELLS, PARTS["part 1"] + PARTS["chapters"][title]) == []


@pytest.mark.parametrize("title", [None, *PARTS["chapters"]])
def test_the_conclusion_runs_after_part_1_and_any_one_chapter(title):
    chapter = PARTS["chapters"][title] if title else []
    assert chapters.path_problems(CELLS, PARTS["part 1"] + chapter + PARTS["conclusion"]) == []


@pytest.mark.parametrize("lesson", list(minutes.PATHS))
def test_each_lesson_runs_as_teaching_md_lists_its_sections(lesson):
    indices = minutes.lesson_cells(CELLS, lesson)
    assert indices, lesson
    assert chapters.path_problems(CELLS, indices) == []


@pytest.mark.parametrize(("number", "spans", "solution"), exercises(NOTEBOOK), ids=lambda value: str(value)[:12])
def test_each_exercise_runs_after_what_it_needs(number, spans, solution):
    needs = minutes.exercise_needs(NOTEBOOK)[number]
    indices = PARTS["part 1"] + [index for title in needs for index in PARTS["chapters"][title]]
    sources = chapters.code_of(CELLS, indices) + [("hint", hint_code(spans)), ("solution", solution)]
    assert chapters.missing_names(sources) == []


def test_the_check_finds_a_chapter_that_reads_another_chapters_name():
    """Break it on purpose: the demo reads the architectures chapter's U-Net, the photographs chapter reads the
    robustness chapter's models. Run after part 1 alone, each stops with a NameError, and the check says where."""
    cells = copy.deepcopy(CELLS)
    demo = next(cell for cell in cells if "demo" in cell.get("metadata", {}).get("tags", []))
    demo["source"] = ["".join(demo["source"]) + "\ndenoisers['U-Net again'] = unet\n"]
    photos = next(cell for cell in cells if "photo-split" in cell.get("metadata", {}).get("tags", []))
    photos["source"] = ["".join(photos["source"]) + "\nphotos_model = experiment_models['gaussian 0.5']\n"]
    parts = chapters.parts(cells)
    play = next(title for title in parts["chapters"] if title.startswith("Play"))
    photographs = next(title for title in parts["chapters"] if title.startswith("Photographs"))
    assert chapters.path_problems(cells, parts["part 1"] + parts["chapters"][play]) == \
        [f"cell {cells.index(demo)}: unet"]
    assert chapters.path_problems(cells, parts["part 1"] + parts["chapters"][photographs]) == \
        [f"cell {cells.index(photos)}: experiment_models"]
    # In the whole notebook, in order, both names exist by then: only the path shows the dependency.
    assert chapters.path_problems(cells, range(len(cells))) == []


@pytest.mark.parametrize(("code", "missing"), [
    ("x = 1\nprint(x)", []),
    ("print(y)\ny = 1", ["y"]),  # read before it is defined
    ("def f():\n    return later\n", ["later"]),  # a function's free name must exist by the end of its cell
    ("def f():\n    return later\nlater = 2", []),
    ("total = [item for item in range(3)]", []),  # a comprehension's own variable
    ("total = [item * scale for item in range(3)]", ["scale"]),
    ("square = lambda value: value * value", []),
    ("class Stop:\n    count = 0\n    def bump(self):\n        Stop.count += 1\n", []),  # methods see the class later
    ("for index in range(2):\n    print(index)", []),
    ("try:\n    pass\nexcept ValueError as error:\n    print(error)", []),
    ("import numpy as np\nimport os.path\nprint(np, os)", []),
    ("with open('f') as handle:\n    handle.read()", []),
    ("table[0] = 1", ["table"]),  # an item assignment reads its object
    ("x += 1", ["x"]),
    ("if (size := 3) > 2:\n    print(size)", []),
    ("def f(a, *rest, key=None, **more):\n    return a, rest, key, more, missing_name", ["missing_name"]),
])
def test_the_name_walk(code, missing):
    assert [name for _, name in chapters.missing_names([(0, code)])] == missing
