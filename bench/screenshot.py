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
from deepdream.nsfwjs import imported_weights_file  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "assets" / "screenshot.png")
    parser.add_argument(
        "--keras-home", type=Path, help="Keras home holding the import [$KERAS_HOME or ~/.keras]"
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
