"""After nbval runs the notebook's last cell, run every exercise's hint and solution in the same kernel.

They run on the notebook's own state, in quick mode, each as one more test item named after its exercise,
followed by the assertions in ``tests/exercises.py`` that check what it claims. They run only when the
whole notebook runs (not when ``-k`` picks some of its cells).
"""

from collections import defaultdict

import nbformat

from exercises import exercise_cells


def pytest_collection_modifyitems(session, config, items):
    cells = [item for item in items if type(item).__name__ == "IPyNbCell"
             and item.path.name == "denoising_autoencoder.ipynb"]
    if not cells:
        return
    notebook_file = cells[-1].parent
    if len(cells) != sum(cell.cell_type == "code" for cell in notebook_file.nb.cells):
        return  # only some of the notebook's cells were selected: the exercises need them all
    cell_type = type(cells[-1])
    extra = [cell_type.from_parent(notebook_file, name=name, cell_num=cells[-1].cell_num + offset,
                                   cell=nbformat.v4.new_code_cell(source),
                                   options=defaultdict(bool, check=False))
             for offset, (name, source) in enumerate(exercise_cells(notebook_file.nb), start=1)]
    position = items.index(cells[-1]) + 1
    items[position:position] = extra
