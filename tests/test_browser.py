"""The notebook as a learner sees it: JupyterLab in a real, headless Chromium, driven by Playwright.

It copies the notebook and its helpers to a temporary folder, starts JupyterLab there (127.0.0.1 only,
with a token), runs all cells in quick mode through the menu, as a learner would, and checks what is on
screen: no cell shows an error, the demo renders, its controls redraw the picture, and a digit drawn on its
pad with the mouse appears noisy and denoised, and the denoised one follows the strokes. Then it restarts
the kernel, and reopens the saved notebook with a new one, as a teacher would the next day.

It needs Chromium from the system (Debian's ``chromium`` package: nothing is downloaded at run time)
and skips, saying so, where there is none; ``.ci/run`` installs it. ``BROWSER_SCREENSHOTS=folder`` keeps
the screenshots it takes; ``DEMO_GIF=assets/demo.gif`` also writes README's animation of the demo, frames
of it on screen as the noise level rises.
"""

import math
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or shutil.which("chromium-browser") or "")
if not Path(CHROMIUM).is_file():
    pytest.skip("no Chromium on this machine (install Debian's chromium package, or set CHROMIUM to a "
                "Chromium binary): the browser test is skipped", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -r "
                                                              "requirements.txt")

RUN_ALL_SECONDS = 900  # quick mode takes about 2.5 minutes in the browser on 2 cores
REDRAW_SECONDS = 2.0  # a control must change the picture within this
WIDGET_ERROR = re.compile(r"^Error displaying widget")  # what JupyterLab shows in a widget's place


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 in a folder holding a copy of the tutorial; stopped afterwards."""
    folder = tmp_path_factory.mktemp("lab")
    for name in ("denoising_autoencoder.ipynb", "utils.py", "validation.py", "demo.py"):
        shutil.copy(ROOT / name, folder / name)
    settings = folder / ".settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    # No news or update toasts over the notebook.
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "DENOISING_QUICK": "1", "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTER_CONFIG_DIR": str(folder / ".config"), "JUPYTER_RUNTIME_DIR": str(folder / ".runtime")}
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
               "--ServerApp.open_browser=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start:\n{(folder / 'server.log').read_text()}")
                time.sleep(0.5)
        yield {"url": url, "token": token, "folder": folder}
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def page(lab):
    """A headless Chromium page; the browser is closed afterwards, even when a test fails."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def screenshot(page, name):
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def open_notebook(page, lab):
    page.goto(f"{lab['url']}/lab/tree/denoising_autoencoder.ipynb?token={lab['token']}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    wait_for_kernel(page, 120)


def notebook_is_modified(page):
    return page.locator(".lm-TabBar-tab.jp-mod-dirty", has_text="denoising_autoencoder").count() > 0


def wait_for_kernel(page, seconds):
    """Until the kernel is idle and no cell waits to run ([*]), or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = page.locator(".jp-Notebook-ExecutionIndicator").first.get_attribute("data-status")
        busy = page.locator(".jp-InputPrompt", has_text="[*]").count()
        if status == "idle" and busy == 0:
            return
        time.sleep(1)
    raise AssertionError(f"the kernel was still busy after {seconds} s (status {status}, {busy} cells waiting)")


def run_menu(page, menu, command):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(f".lm-Menu-item[data-command='{command}']").click()


def demo(page):
    return page.locator(".jp-OutputArea-output .widget-vbox").filter(has=page.locator(".widget-hslider")).last


def picture(page):
    return demo(page).locator("img").last


def becomes(condition):
    """Whether ``condition()`` holds within REDRAW_SECONDS."""
    deadline = time.monotonic() + REDRAW_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def redraws(page, act):
    """Whether ``act`` changes the demo's picture on screen within REDRAW_SECONDS."""
    before_source, before_pixels = picture(page).get_attribute("src"), picture(page).screenshot()
    act()
    return becomes(lambda: picture(page).get_attribute("src") != before_source
                   and picture(page).screenshot() != before_pixels)


def test_run_all_shows_no_error_and_a_working_demo(page, lab):
    open_notebook(page, lab)
    time.sleep(2)
    assert not notebook_is_modified(page), "opening the notebook marked it modified"
    start = time.monotonic()
    run_menu(page, "Run", "runmenu:run-all")
    time.sleep(5)
    wait_for_kernel(page, RUN_ALL_SECONDS)
    print(f"Run All in the browser: {time.monotonic() - start:.0f} s")
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert errors.count() == 0, errors.all_inner_texts()[:3]
    assert page.get_by_text(WIDGET_ERROR).count() == 0
    demo(page).scroll_into_view_if_needed()
    screenshot(page, "1-demo-after-run-all")
    for control in (".widget-dropdown", ".widget-hslider", ".widget-inline-hbox input", "button", "img"):
        assert demo(page).locator(control).first.is_visible(), f"the demo shows no {control}"
    natural, shown = picture(page).evaluate("image => [image.naturalWidth, image.clientWidth]")
    assert natural >= 2 * shown - 1, f"the picture is drawn {natural} pixels wide, shown {shown}: blurred"
    slider = demo(page).locator(".widget-hslider")
    readout = slider.locator(".widget-readout")
    assert readout.inner_text() == "0.50"

    def raise_level():
        slider.locator(".noUi-handle").focus()
        page.keyboard.press("ArrowRight")

    assert redraws(page, raise_level), "moving the noise-level slider did not change the picture"
    assert readout.inner_text() == "0.55"

    def pick_digit():
        box = demo(page).locator(".widget-inline-hbox input").first
        box.fill("7")
        box.press("Enter")

    assert redraws(page, pick_digit), "picking another digit did not change the picture"
    assert redraws(page, lambda: demo(page).locator("button").first.click()), "random digit: no new picture"
    screenshot(page, "2-demo-after-moves")
    if os.environ.get("DEMO_GIF"):
        write_demo_gif(page, slider, Path(os.environ["DEMO_GIF"]))


ONE = [(0.5, 0.15), (0.5, 0.85)]  # stroke points, as fractions of the pad's width and height
ZERO = [(0.5 + 0.25 * math.sin(2 * math.pi * step / 24), 0.5 - 0.35 * math.cos(2 * math.pi * step / 24))
        for step in range(25)]


def draw(page, points):
    """One stroke of the mouse through ``points`` on the demo's pad."""
    pad = demo(page).locator("canvas.drawing-pad")
    pad.scroll_into_view_if_needed()  # the mouse works in the window's coordinates
    box = pad.bounding_box()
    path = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    page.mouse.move(*path[0])
    page.mouse.down()
    for point in path[1:]:
        page.mouse.move(*point)
    page.mouse.up()


def panels(page):
    """The demo's picture on screen, cut into its panels (clean, noisy, then one per denoiser): grey arrays."""
    import io

    import numpy as np
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(picture(page).screenshot())).convert("L"), dtype=float)
    count = 7  # clean, noisy, and the notebook's five denoisers
    height, width = image.shape
    band = image[height // 5:4 * height // 5]  # the digits, without the titles above and the captions below
    return [band[:, index * width // count:(index + 1) * width // count] for index in range(count)]


def correlation(first, second):
    import numpy as np

    return float(np.corrcoef(first.ravel(), second.ravel())[0, 1])


def test_a_drawn_digit_is_shown_noisy_and_denoised_and_the_denoised_one_follows_the_strokes(page, lab):
    caption = demo(page).locator(".widget-html").first  # the line under the picture
    assert redraws(page, lambda: draw(page, ONE)), "drawing a 1 on the pad did not change the picture"
    assert "your drawing" in caption.inner_text(), caption.inner_text()
    screenshot(page, "2b-drawn-one")
    one = panels(page)
    demo(page).locator("button", has_text="clear the pad").click()
    # Clearing brings back the test digit (which may be a 0 itself): wait for that picture before drawing, so
    # that the next redraw is the drawing's, and check that it is.
    assert becomes(lambda: "your drawing" not in caption.inner_text()), "clearing the pad kept the drawing"
    assert redraws(page, lambda: draw(page, ZERO)), "drawing a 0 on the pad did not change the picture"
    assert becomes(lambda: "your drawing" in caption.inner_text()), caption.inner_text()
    screenshot(page, "2c-drawn-zero")
    zero = panels(page)
    clean, noisy, autoencoder = 0, 1, 3  # the panels: clean, noisy, keras.io, autoencoder, ...
    assert correlation(one[clean], zero[clean]) < 0.9, "the two drawings look alike"
    assert correlation(one[noisy], one[clean]) < correlation(one[autoencoder], one[clean]), "the 1 was not denoised"
    # The autoencoder's output follows the strokes: it resembles the digit drawn, not the other one.
    assert correlation(one[autoencoder], one[clean]) > correlation(one[autoencoder], zero[clean])
    assert correlation(zero[autoencoder], zero[clean]) > correlation(zero[autoencoder], one[clean])
    demo(page).locator("button", has_text="clear the pad").click()


def write_demo_gif(page, slider, path):
    """Frames of the demo on screen as the level goes from 0.1 to 0.9 and back, as an animated GIF."""
    import io

    from PIL import Image

    readout = slider.locator(".widget-readout")
    slider.locator(".noUi-handle").focus()
    frames = []
    for target in (0.1, 0.3, 0.5, 0.7, 0.9, 0.7, 0.5, 0.3):
        while (level := float(readout.inner_text())) != target:
            key = "ArrowRight" if level < target else "ArrowLeft"
            redraws(page, lambda key=key: page.keyboard.press(key))
        frames.append(Image.open(io.BytesIO(demo(page).screenshot())).convert("RGB"))
    palette = frames[0].quantize(colors=64)
    frames = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=900, loop=0, optimize=True)


def test_after_a_restart_the_demo_says_how_to_bring_it_back(page, lab):
    run_menu(page, "Kernel", "kernelmenu:restart")
    page.locator(".jp-Dialog-button.jp-mod-accept").click()
    wait_for_kernel(page, 60)
    slider = demo(page).locator(".widget-hslider")
    assert not redraws(page, lambda: (slider.locator(".noUi-handle").focus(), page.keyboard.press("ArrowRight")))
    screenshot(page, "3-demo-after-restart")
    # The caption still names the level of the picture, not the slider's, and says what to do.
    level = slider.locator(".widget-readout").inner_text()
    caption = demo(page).locator(".widget-html").first.inner_text()
    assert f"level {level}," not in caption and "Run All Cells" in caption, (level, caption)


def test_a_saved_copy_reopens_with_a_picture_not_a_bare_error(page, lab):
    page.keyboard.press("Control+s")
    time.sleep(2)
    run_menu(page, "Kernel", "kernelmenu:shutdown")
    time.sleep(2)
    if page.locator(".jp-Dialog-button.jp-mod-accept").count():  # some versions ask first
        page.locator(".jp-Dialog-button.jp-mod-accept").click()
        time.sleep(2)
    open_notebook(page, lab)  # a new page load: a new kernel, the saved outputs
    cell = page.locator(".jp-CodeCell").filter(has_text="demo.denoising_demo(").first
    cell.evaluate("cell => cell.scrollIntoView()")
    time.sleep(3)
    screenshot(page, "4-reopened")
    output = cell.locator(".jp-OutputArea")
    # What the teacher sees: the saved line that says how to bring the demo back, whatever the widget shows.
    assert output.get_by_text("Run All Cells").is_visible(), output.inner_text()[:500]
    assert not output.get_by_text(WIDGET_ERROR).count() or \
        output.get_by_text("run the notebook again").is_visible()
