"""Natural photographs for training the photo denoisers, read offline from the Python packages that ship them, and a
check that none of them is, or is cut from, a test or validation photo.

    pip install --no-deps -r benchmarks/requirements-photos.txt   # sporco's five photos (the others come installed)
    python benchmarks/natural_photos.py                           # the photos, and the overlap check's table

The tutorial's own training photos (``photos.TRAINING_PHOTOS``) are mostly textures, microscopy and text; its test and
validation photos are natural scenes. Eleven more natural photos ship inside packages on PyPI: six in packages that
the tutorial already installs (scikit-image, scikit-learn, matplotlib, PyWavelets), five in ``sporco``'s wheel. Each
is read from its file inside the installed package, found with ``importlib.util.find_spec``, which locates a package
without running its code: sporco is installed without its dependencies (pyfftw, imageio, future...), and never
imported. Colour photos are turned grey as ``utils.load_photo`` turns scikit-image's (``rgb2gray``).

Left out: the right view of scikit-image's motorcycle pair (the same scene as the left one, a little shifted),
PyWavelets' ``camera`` (our test photo ``camera``), scikit-image's ``color`` (a synthetic colour wheel), mahotas's
``lena`` (a magazine scan without a licence, no longer accepted by journals), ``DepartmentStore`` (a drawing, under
copyright) and ``luispedro`` (a portrait that the wheel says nothing about), and ``scipy.datasets`` (pooch downloads
them when first used: nothing ships in scipy's wheel, and this machine has no network).

The overlap check (``max_correlation``) compares every new photo with the 7 test and validation photos, all grey and
at half size, mirrored or not, either of the two shrunk (so at scales from 1/4 to 4): the smaller found whole in the
larger at steps of 3 % (it is, or is cut from, the other), and any of the 6 most textured 128-pixel tiles of either
found in the other at steps of 12 % (they share a part), by the normalized cross-correlation of their details (a
band-pass filter, then ``skimage.feature.match_template``). A copy scores 0.9 or more, as the controls in the table
show: PyWavelets' own ``camera``, a mirrored crop of ``astronaut`` at 0.74 and a crop of ``coffee`` at 0.47, both
scales half-way between two of the check's. The table, with the pinned versions (about 5 minutes on 2 cores), is in
benchmarks/README.md, written from ``benchmarks/results/natural_photos.json``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import utils
from benchmarks import photos

REQUIREMENTS = ROOT / "benchmarks" / "requirements-photos.txt"
RESULTS = ROOT / "benchmarks" / "results"
INSTALL = f"pip install --no-deps -r {REQUIREMENTS.relative_to(ROOT)}"


class Source(NamedTuple):
    package: str  # the distribution's name on PyPI
    module: str  # its import name: the folder that holds the file
    path: str  # the file, inside that folder
    licence: str  # what the package says of the picture, in short (the report quotes it in full)


_SPORCO = ("sporco/data/README.rst: \"believed to be either in the public domain, or released with a license that "
           "allows them to be freely redistributed\"")
NATURAL_PHOTOS = {
    "motorcycle": Source("scikit-image", "skimage", "data/motorcycle_left.png",
                         "scikit-image's BSD-3-Clause (\"Files: *\"); from the Middlebury 2014 stereo benchmark"),
    "grace_hopper": Source("matplotlib", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
                           "matplotlib's licence; the wheel says nothing else of it (a US Navy portrait)"),
    "china": Source("scikit-learn", "sklearn", "datasets/images/china.jpg",
                    "sklearn/datasets/images/README.txt: \"Released under a creative commons license\" (CC BY 2.0)"),
    "flower": Source("scikit-learn", "sklearn", "datasets/images/flower.jpg",
                     "sklearn/datasets/images/README.txt: \"Released under a creative commons license\" (CC BY 2.0)"),
    "aero": Source("PyWavelets", "pywt", "data/aero.npz", "PyWavelets' MIT licence; its source is not stated"),
    "ascent": Source("PyWavelets", "pywt", "data/ascent.npz",
                     "pywt.data.ascent: \"derived from accent-to-the-top.jpg at http://www.public-domain-image.com\""),
    "barbara": Source("sporco", "sporco", "data/barbara.png", _SPORCO),
    "kodim23": Source("sporco", "sporco", "data/kodim23.png", _SPORCO + "; Kodak: \"released for unrestricted use\""),
    "monarch": Source("sporco", "sporco", "data/monarch.png", _SPORCO + "; Waterloo BragZone"),
    "sail": Source("sporco", "sporco", "data/sail.png", _SPORCO + "; Waterloo BragZone"),
    "tulips": Source("sporco", "sporco", "data/tulips.png", _SPORCO + "; Waterloo BragZone"),
}


class MissingPhotoPackage(ImportError):
    """A training photo's package is not installed, or holds no such file (another version)."""


def pinned_versions(*files):
    """``{package: version}`` of the ``name==version`` lines of requirements files (the tutorial's and the extra's),
    and of the files that they include with ``-r``."""
    pins = {}
    for file in files or (ROOT / "requirements.txt", REQUIREMENTS):
        for line in Path(file).read_text().splitlines():
            requirement = line.split("#")[0].split(";")[0].strip()
            if requirement.startswith("-r "):
                pins.update(pinned_versions(Path(file).parent / requirement[3:].strip()))
            elif "==" in requirement:
                name, version = requirement.split("==")
                pins[name.strip().lower()] = version.strip()
    return pins


def installed_version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _install_command(package):
    """The extra's for its packages; the tutorial's own requirements for the others (scikit-image, matplotlib...)."""
    return INSTALL if package.lower() in pinned_versions(REQUIREMENTS) else "pip install -r requirements.txt"


def photo_file(name):
    """The file of one of NATURAL_PHOTOS inside its installed package; MissingPhotoPackage says how to install it."""
    source = NATURAL_PHOTOS[name]
    pinned = pinned_versions().get(source.package.lower())
    wanted = f"{source.package}=={pinned}" if pinned else source.package
    spec = importlib.util.find_spec(source.module)  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise MissingPhotoPackage(f"the training photo {name!r} ships in the {source.package} package, which is not "
                                  f"installed: {_install_command(source.package)} (it installs {wanted}; only its "
                                  "data files are read)")
    path = Path(spec.submodule_search_locations[0]) / source.path
    if not path.is_file():
        raise MissingPhotoPackage(f"the training photo {name!r} should be {source.module}/{source.path}, which "
                                  f"{source.package} {installed_version(source.package)} does not have: install "
                                  f"{wanted}")
    return path


def version_notes(names):
    """A line for each package of ``names`` installed at another version than its pin: its photos may differ from
    those that the overlap check compared with the test and validation photos."""
    pins = pinned_versions()
    return [f"note: {package} {version} is installed, not the pinned {pins[package.lower()]}: the overlap check "
            "(python benchmarks/natural_photos.py) was made with the pinned version"
            for package, version in versions(names).items()
            if version and pins.get(package.lower()) not in (None, version)]


def missing(names):
    """A message for each package that holds photos among ``names`` and is missing, or lacks one of them (none when
    all are there)."""
    messages = {}
    for name in names:
        try:
            photo_file(name)
        except MissingPhotoPackage as error:
            messages.setdefault(NATURAL_PHOTOS[name].package, str(error))
    return list(messages.values())


def load(name):
    """One of NATURAL_PHOTOS as a grey float32 image (H, W) in [0, 1], as ``utils.load_photo`` returns its photos."""
    from PIL import Image
    from skimage.color import rgb2gray

    path = photo_file(name)
    pixels = np.load(path)["data"] if path.suffix == ".npz" else np.asarray(Image.open(path))
    grey = rgb2gray(pixels[..., :3]) if pixels.ndim == 3 else pixels / 255.0
    return grey.astype(np.float32)


def versions(names):
    """``{package: installed version}`` of the packages that ``names`` come from: what a result records."""
    return {NATURAL_PHOTOS[name].package: installed_version(NATURAL_PHOTOS[name].package) for name in names}


# ---- The overlap check ----

# Each photo shrunk in turn, so the scale of one in the other goes from 1/4 to 4: steps of 3 % for whole photos, a
# few pixels off at their edges at most (more, and a copy's details no longer line up), and of 12 % for the tiles.
SCALES = tuple(2.0 ** (-step / 24) for step in range(49))
TILE_EVERY = 4  # tiles at every fourth scale
TILE = 64  # pixels at half size: 128 in the photos
TILES = 6  # the most textured tiles of each image
TEXTURE = 0.01  # and only those whose details vary at least this much: a flat tile's details are noise, JPEG blocks
# and perhaps one edge, which match some place of any photo by chance (0.9 for a tile of the clock's wall)


def _half(image):
    from skimage.transform import rescale

    return rescale(image, 0.5, anti_aliasing=True).astype(np.float32)


def _band(image):
    """Details from 1.4 to 8 pixels (a difference of Gaussians): without its smooth shading, an unrelated tile
    correlates far less with some place of another photo (0.5 at most here, against 0.8 for the plain pixels), while
    a copy still correlates at 0.9 or more, resampled and a few percent off in scale."""
    from skimage.filters import gaussian

    return (gaussian(image, 0.7) - gaussian(image, 4)).astype(np.float32)


def _tiles(image):
    """The TILES most textured tiles of TILE pixels of ``image`` (a grid without overlap), if textured enough."""
    tiles = [image[top:top + TILE, left:left + TILE] for top in range(0, image.shape[0] - TILE + 1, TILE)
             for left in range(0, image.shape[1] - TILE + 1, TILE)]
    return [tile for tile in sorted(tiles, key=lambda part: -part.std())[:TILES] if tile.std() >= TEXTURE]


def _window_std(image, shape):
    """The standard deviation of ``image`` in every window of ``shape`` that fits in it (match_template's places)."""
    height, width = shape
    count = height * width

    def sums(values):
        total = np.pad(values.astype(np.float64), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        return total[height:, width:] - total[:-height, width:] - total[height:, :-width] + total[:-height, :-width]

    mean = sums(image) / count
    return np.sqrt(np.maximum(sums(np.square(image)) / count - mean**2, 0.0))


def _match(image, template):
    """match_template's best correlation, where the window has at least a quarter of the template's contrast: in a
    nearly flat window (a sky, the black around the moon) both terms of the ratio are tiny and it can come out at
    0.8 or more by chance, and a copy of a textured template cannot lie there."""
    from skimage.feature import match_template

    response = match_template(image, template)
    response[_window_std(image, template.shape) < 0.25 * template.std()] = -1.0
    return float(response.max())


def _best_match(image, templates):
    """The highest correlation of any of ``templates`` that fits in ``image`` (-1 if none does)."""
    return max([-1.0, *(_match(image, template) for template in templates
                        if template.shape[0] <= image.shape[0] and template.shape[1] <= image.shape[1]
                        and min(template.shape) >= TILE // 2)])


def _shrunk_and_matched(moving, still, scales):
    """``moving`` shrunk by each of ``scales``: it found whole in ``still`` or ``still`` in it, and the same for
    tiles (every TILE_EVERY-th scale). Both already at half size, ``still`` band-passed."""
    from skimage.transform import rescale

    whole, tiles, still_tiles = -1.0, -1.0, _tiles(still)
    for index, scale in enumerate(scales):
        shrunk = _band(moving if scale == 1 else rescale(moving, scale, anti_aliasing=True))
        whole = max(whole, _best_match(still, [shrunk]), _best_match(shrunk, [still]))
        if index % TILE_EVERY == 0:
            tiles = max(tiles, _best_match(still, _tiles(shrunk)), _best_match(shrunk, still_tiles))
    return whole, tiles


def correlations(photo, reference, scales=SCALES):
    """The highest normalized cross-correlations between the details (``_band``) of two grey images at half size,
    the photo mirrored or not, one of the two shrunk by each of ``scales``: ``whole``, of the smaller found in the
    larger (one is, or is cut from, the other), and ``tiles``, of a tile of either found in the other (they share a
    part; but a single line or ring can match by chance too). Near 1 for a copy."""
    photo, reference = _half(photo), _half(reference)  # half size: 4 times faster, JPEG blocks matter less
    pairs = [(photo, _band(reference)), (photo[:, ::-1], _band(reference)),
             (reference, _band(photo)), (reference, _band(photo[:, ::-1]))]
    found = [_shrunk_and_matched(moving, still, scales) for moving, still in pairs]
    return {"whole": max(whole for whole, _ in found), "tiles": max(tiles for _, tiles in found)}


def max_correlation(photo, reference, scales=SCALES):
    return max(correlations(photo, reference, scales).values())


def references():
    """The test and validation photos, grey, whole: what no training photo may be, or be cut from."""
    return {name: utils.load_photo(name) for name in (*photos.TEST_PHOTOS, *photos.VALIDATION_PHOTOS)}


def controls():
    """Copies that the check must find: (label, image). PyWavelets' camera is the test photo, in another package; the
    crops are cut here, rescaled half-way between two of the check's scales (its worst case), one of them mirrored."""
    from skimage.transform import rescale

    import pywt.data

    astronaut = utils.load_photo("astronaut")[100:400, 60:360][:, ::-1]
    coffee = utils.load_photo("coffee")[50:350, 150:550]
    return [("PyWavelets' camera (control)", (pywt.data.camera() / 255.0).astype(np.float32)),
            ("astronaut, a crop at 0.74, mirrored (control)",
             rescale(astronaut, 2 ** (-10.5 / 24), anti_aliasing=True)),
            ("coffee, a crop at 0.47 (control)", rescale(coffee, 2 ** (-26.5 / 24), anti_aliasing=True))]


def overlap_table(names=tuple(NATURAL_PHOTOS), with_controls=True):
    """The check's table, printed as it goes: for each photo (and control), the maximum correlations with each test
    and validation photo, whole / tiles. Returns the lines and ``{label: {reference: {"whole", "tiles"}}}``."""
    grey = references()
    lines = ["| photo | size | " + " | ".join(grey) + " |", "|---|---|" + "---:|" * len(grey)]
    print("\n".join(lines), flush=True)
    rows = [(f"{name} ({NATURAL_PHOTOS[name].package})", load(name)) for name in names]
    found = {}
    for label, image in rows + (controls() if with_controls else []):
        found[label] = {name: correlations(image, reference) for name, reference in grey.items()}
        lines.append(f"| {label} | {image.shape[1]}x{image.shape[0]} | "
                     + " | ".join(f"{cell['whole']:.2f} / {cell['tiles']:.2f}" for cell in found[label].values())
                     + " |")
        print(lines[-1], flush=True)
    return lines, found


def photo_table(names=tuple(NATURAL_PHOTOS)):
    lines = ["| photo | package | version | file | size | licence |", "|---|---|---|---|---|---|"]
    for name in names:
        source, photo = NATURAL_PHOTOS[name], load(name)
        lines.append(f"| {name} | {source.package} | {installed_version(source.package)} | "
                     f"{source.module}/{source.path} | {photo.shape[1]}x{photo.shape[0]} | {source.licence} |")
    return lines


def verdict_line(found):
    """Whether any photo matches a test or validation photo as closely as the controls (copies) match theirs."""
    controls_ = {label: max(cell["whole"] for cell in row.values()) for label, row in found.items()
                 if label.endswith("(control)")}
    photos_ = {label: max(cell["whole"] for cell in row.values()) for label, row in found.items()
               if label not in controls_}
    tiles = {label: max(cell["tiles"] for cell in row.values()) for label, row in found.items()
             if label not in controls_}
    if not controls_:
        return f"Highest correlation of a whole photo: {max(photos_.values()):.2f} (no controls to compare with)."
    copies = [label for label, value in photos_.items() if value >= min(controls_.values())]
    if copies:
        return (f"As close to a test or validation photo as a copy is: {', '.join(copies)}. Leave "
                f"{'it' if len(copies) == 1 else 'them'} out.")
    return (f"No photo is, or is cut from, a test or validation photo: {max(photos_.values()):.2f} at most whole, "
            f"against {min(controls_.values()):.2f} and more for the copies (tiles: {max(tiles.values()):.2f} at "
            "most; a tile can match a single edge or ring by chance).")


def main(argv=None):
    import argparse
    import json
    import time

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="PHOTO", help=f"photos to check, of {', '.join(NATURAL_PHOTOS)} "
                        "(default: all, then the controls, and the result goes to benchmarks/results/"
                        "natural_photos.json; about 20 s a photo on 2 cores)")
    names = parser.parse_args(argv).names
    if set(names) - set(NATURAL_PHOTOS):
        parser.error(f"no such photo: {', '.join(sorted(set(names) - set(NATURAL_PHOTOS)))}")
    absent = missing(names or NATURAL_PHOTOS)
    if absent:
        raise SystemExit("\n".join(absent))
    start = time.perf_counter()
    listed = photo_table(names or NATURAL_PHOTOS)
    print("\n".join(listed), end="\n\n")
    heading = ("Maximum normalized cross-correlation of the details (half size) with each test and validation photo: "
               "the smaller photo found whole in the larger / a 128-pixel tile of either found in the other")
    print(heading, flush=True)
    lines, found = overlap_table(names or tuple(NATURAL_PHOTOS), with_controls=not names)
    print(verdict_line(found))
    if not names:
        result = {"photos": listed, "correlations": found, "versions": versions(NATURAL_PHOTOS),
                  "wall_seconds": time.perf_counter() - start,
                  "report": {"main": [*listed, "", heading, "", *lines, "", verdict_line(found)]}}
        path = RESULTS / "natural_photos.json"
        path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"Wrote {path.name} to {path.parent.name}/ in {result['wall_seconds'] / 60:.1f} min.")


if __name__ == "__main__":
    main()
