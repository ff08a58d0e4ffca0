"""The README's screenshot: the page on an offline server dreaming with InceptionV3's ImageNet
layers mixed0-mixed5 (the nsfwjs import), in headless Chromium.

Starts its own server on a loopback port (``DEEPDREAM_OFFLINE=1``, Keras's cache = the folder
holding the import, so Keras's full ImageNet file is not there), uploads the test astronaut at
512 px, clicks Generate, waits for the result and saves a screenshot of the whole window. The
server and the browser are stopped by their own PIDs.

Run from the repository root (about a minute):
    python bench/screenshot.py [--out assets/screenshot.png] [--keras-home ~/.keras]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from PIL import Image  # noqa: E402

from bench.looks import kind_photo  # noqa: E402
from bench.stress import Deadline, browser_session, running_server  # noqa: E402
from deepdream.models.weights.nsfwjs import imported_weights_file  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "assets" / "screenshot.png")
    parser.add_argument(
        "--keras-home", type=Path, help="Keras home holding the import [$KERAS_HOME or ~/.keras]"
    )
    parser.add_argument(
        "--studio",
        type=Path,
        help="also the studio's screenshots into this folder (a painted mask and its dream; "
        "the gallery and the before/after slider)",
    )
    args = parser.parse_args(argv)
    weights = imported_weights_file(args.keras_home)
    if not weights.is_file():
        raise SystemExit(f"No nsfwjs import at {weights}: run python -m deepdream --import-weights")
    deadline = Deadline.after(600)
    with tempfile.TemporaryDirectory(prefix="deepdream-shot-") as folder:
        workdir = Path(folder)
        photo = workdir / "astronaut.jpg"
        Image.fromarray(kind_photo("astronaut", 512)).save(photo, quality=92)
        home = weights.parent.parent
        with (
            running_server(workdir, deadline, keras_home=home) as server,
            browser_session(workdir, "shot") as page,
        ):
            page.driver.set_window_size(1400, 1400)
            page.open_with_photo(server.url, photo, deadline)
            page.click_generate(deadline)
            while not page.probe().download:
                if deadline.remaining() < 0 or page.probe().error:
                    raise SystemExit(f"no result: {page.probe().error}")
                time.sleep(0.5)
            time.sleep(2)  # let the images finish drawing
            page.driver.execute_script(
                "document.querySelectorAll('[data-testid=stMain], section')"
                ".forEach(e => e.scrollTo(0, 0)); window.scrollTo(0, 0);"
            )
            time.sleep(1)
            page.driver.save_screenshot(str(args.out))
    print(f"wrote {args.out}")
    if args.studio:
        studio_shots(weights, args.studio, deadline)
    return 0


def studio_shots(weights: Path, out_dir: Path, deadline: Deadline) -> None:
    """The studio's screenshots: a mask painted on the rocket and its dream, then a second
    dream of the whole photo, the gallery of both and the before/after slider."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from bench.stress import paint_stroke

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="deepdream-studio-shot-") as folder:
        workdir = Path(folder)
        photo = workdir / "rocket.jpg"
        Image.fromarray(kind_photo("rocket", 512)).save(photo, quality=92)
        with (
            running_server(workdir, deadline, keras_home=weights.parent.parent) as server,
            browser_session(workdir, "studio") as page,
        ):
            driver = page.driver
            driver.set_window_size(1400, 2200)
            wait = WebDriverWait(driver, deadline.limit(300))
            page.open_with_photo(server.url, photo, deadline)
            # Up the rocket's body and round its top: canvas pixels (512 x 341).
            paint_stroke(driver, wait, [(240, 300), (250, 200), (256, 120), (270, 60), (300, 40)])
            page.click_generate(deadline)
            wait.until(lambda d: page.probe().download)
            time.sleep(2)
            save_jpeg(driver, out_dir / "page-mask.jpg")
            driver.find_element(
                By.XPATH, "//label[contains(., 'Dream only where I paint')]"
            ).click()
            time.sleep(2)
            page.click_generate(deadline)
            wait.until(
                lambda d: len(d.find_elements(By.XPATH, "//*[contains(text(), 'Download all (2')]"))
            )
            driver.find_element(By.XPATH, "//label[contains(., 'Before and after')]").click()
            slider = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".dd-slider")))
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
            slider.send_keys(*[Keys.ARROW_LEFT] * 30)  # the photo on the left 35 %
            time.sleep(1)
            save_jpeg(driver, out_dir / "page-gallery.jpg")


def save_jpeg(driver, path: Path) -> None:
    """A screenshot of the window as a JPEG (a screenshot PNG is five times larger)."""
    import io

    shot = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    shot.save(path, quality=85)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
