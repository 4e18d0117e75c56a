"""The classroom kit: the students' copy that TEACHING.md's command writes, and the guide's minutes."""

import copy
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "teaching"))
sys.path.insert(0, str(ROOT / "tests"))

import minutes
from exercises import EXERCISE, HINT, SOLUTION

NOTEBOOK = ROOT / "denoising_autoencoder.ipynb"
GUIDE = ROOT / "TEACHING.md"


def student_command(guide_text):
    """The nbconvert command of TEACHING.md's "students' copy" step, as arguments."""
    block = re.search(r"```bash\n\s*(jupyter nbconvert .*?)\s*```", guide_text, re.DOTALL)
    assert block, "TEACHING.md should give the nbconvert command that writes the students' copy"
    return shlex.split(block.group(1).replace("\\\n", " "))


def make_copy(folder, *extra):
    """Run TEACHING.md's command on a copy of the notebook in ``folder``; return the students' notebook."""
    (folder / NOTEBOOK.name).write_bytes(NOTEBOOK.read_bytes())
    command = student_command(GUIDE.read_text(encoding="utf-8")) + list(extra)
    command[0:1] = [sys.executable, "-m", "jupyter"]
    subprocess.run(command, cwd=folder, check=True, capture_output=True, timeout=120)
    written = folder / "denoising_autoencoder_student.ipynb"
    assert written.exists(), f"the command should write {written.name}"
    return nbformat.read(written, as_version=4)


def copy_problems(teacher, student):
    """What is wrong with ``student`` as a copy of ``teacher`` without solutions: a list of sentences."""
    problems = []
    solutions = [SOLUTION.search("".join(cell.source)) for cell in teacher.cells
                 if "solution" in cell.metadata.get("tags", [])]
    if not solutions or not all(solutions):
        problems.append("the teacher's notebook should have solution cells, each with its code")
    text = "\n".join("".join(cell.source) for cell in student.cells)
    for cell in student.cells:
        if "solution" in cell.metadata.get("tags", []):
            problems.append(f"a cell tagged 'solution' is left: {''.join(cell.source)[:80]!r}")
    if "<summary>Solution</summary>" in text:
        problems.append("a worked solution's <details> block is left")
    for found in filter(None, solutions):
        # A solution's longest line is specific to it: if it is in the copy, the solution is.
        line = max(found.group(1).splitlines(), key=len).strip()
        if line in text:
            problems.append(f"solution text is left: {line!r}")
    teacher_exercises = ["".join(cell.source) for cell in teacher.cells
                         if "exercise" in cell.metadata.get("tags", [])]
    student_exercises = ["".join(cell.source) for cell in student.cells
                         if "exercise" in cell.metadata.get("tags", [])]
    if student_exercises != teacher_exercises:
        problems.append(f"the copy has {len(student_exercises)} exercises, the notebook {len(teacher_exercises)}, "
                        "or their text differs")
    for exercise in student_exercises:
        if not (EXERCISE.search(exercise) and HINT.search(exercise)):
            problems.append(f"an exercise lost its title or hint: {exercise[:80]!r}")
    kept = [cell for cell in teacher.cells if "solution" not in cell.metadata.get("tags", [])]
    if ["".join(cell.source) for cell in kept] != ["".join(cell.source) for cell in student.cells]:
        problems.append("the copy should keep every other cell, in order")
    return problems


@pytest.fixture(scope="module")
def teacher():
    return nbformat.read(NOTEBOOK, as_version=4)


def test_students_copy_has_no_solutions_and_every_exercise(tmp_path, teacher):
    student = make_copy(tmp_path)
    nbformat.validate(student)
    assert copy_problems(teacher, student) == []
    assert any(cell.get("outputs") for cell in student.cells if cell.cell_type == "code"), \
        "without the clearing option, the copy keeps the outputs"


def test_students_copy_with_outputs_cleared(tmp_path, teacher):
    student = make_copy(tmp_path, "--ClearOutputPreprocessor.enabled=True")
    nbformat.validate(student)
    assert copy_problems(teacher, student) == []
    assert not any(cell.get("outputs") for cell in student.cells if cell.cell_type == "code")


def test_the_checker_finds_a_solution_left_in(teacher):
    """A solution whose cell lost its tag, or pasted into an exercise, is found."""
    untagged = copy.deepcopy(teacher)
    cell = next(cell for cell in untagged.cells if "solution" in cell.metadata.get("tags", []))
    cell.metadata["tags"].remove("solution")
    student = copy.deepcopy(untagged)
    student.cells = [c for c in student.cells if "solution" not in c.metadata.get("tags", [])]
    assert any("solution text is left" in problem for problem in copy_problems(teacher, student))


def test_guide_minutes_are_the_notebooks():
    guide = GUIDE.read_text(encoding="utf-8")
    assert minutes.with_tables(guide, nbformat.read(NOTEBOOK, as_version=4)) == guide, \
        "TEACHING.md's minutes differ from the committed notebook's: run python teaching/minutes.py"


def test_guide_minutes_follow_the_timestamps(teacher):
    """A cell that ran a minute longer changes the guide's tables: the check cannot pass on stale minutes."""
    guide = GUIDE.read_text(encoding="utf-8")
    slower = copy.deepcopy(teacher)
    cell = next(cell for cell in slower.cells if minutes.seconds_of(cell) > 1)
    timing = cell.metadata["execution"]
    stamp = minutes.datetime.datetime.fromisoformat(timing["shell.execute_reply"])
    timing["shell.execute_reply"] = (stamp + minutes.datetime.timedelta(minutes=3)).isoformat()
    assert minutes.with_tables(guide, slower) != guide


def test_every_exercise_has_a_measured_time(teacher):
    times = minutes.exercise_times(teacher)
    assert len(times) >= 10, times
    assert all(seconds is not None and seconds > 0 for _, _, seconds in times), times


def test_both_lessons_fit_their_minutes(teacher):
    """Each path reads within its lesson, with the notebook run before the class (prepared, as the guide says)."""
    rows = minutes.sections(teacher)
    for name, starts in minutes.PATHS.items():
        chosen = [row for row in rows if any(minutes.in_path(row[0], start) for start in starts)]
        assert len(chosen) == len(starts), (name, [row[0] for row in chosen])
        reading = sum(row[1] for row in chosen)
        assert reading <= int(name.split()[0]), f"the {name} lesson reads for {reading:.0f} minutes"
