"""A real browser against a real server: upload, Generate, wait for the dream, save it.

Starts ``streamlit run app.py`` on a free loopback port, drives Debian's headless Chromium with
Selenium and ``/usr/bin/chromedriver``, and stops the server by its own PID. The dream's
``<img>`` is fetched the way "Save image as" would and must be our PNG at the photo's size.
A screenshot is written to ``$DEEPDREAM_SCREENSHOT_DIR`` (default: the test's tmp folder).
"""

from __future__ import annotations

import io
import os
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import need_browser
from PIL import Image

from bench import harness

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).parent.parent
# The photo's uploader is the main area's first; the sidebar has the recipe's and the guide's.
PHOTO_INPUT = "[data-testid=stMain] input[type=file]"
GUIDE_INPUT = ".st-key-guide_upload input[type=file]"
RECIPE_INPUT = ".st-key-recipe_upload input[type=file]"
# The src of the shown dream: the picture captioned "DeepDream ·" (not a gallery thumbnail).
DREAM_SRC_JS = (
    "for (const box of document.querySelectorAll('[data-testid=stMain] [data-testid=stImage]'))"
    "  if (box.innerText.includes('DeepDream ·')) return box.querySelector('img').src;"
    "return null;"
)


# The painting canvas's top layer (Fabric.js), inside the component's shadow root.
CANVAS_JS = (
    "for (const host of document.querySelectorAll('[data-testid=stMain] *')) {"
    "  const canvas = host.shadowRoot && host.shadowRoot.querySelector('canvas.upper-canvas');"
    "  if (canvas && canvas.width > 0) return canvas;"
    "} return null;"
)


def paint_stroke(driver, wait, points: list[tuple[int, int]]) -> None:
    """Open "Dream only where you paint", turn it on and drag the brush through ``points``
    (canvas pixels from its top-left corner) with pointer actions, as a hand would."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    opener = "//summary[contains(., 'Dream only where you paint')]"
    wait.until(ec.element_to_be_clickable((By.XPATH, opener))).click()
    toggle = "//label[contains(., 'Dream only where I paint')]"
    wait.until(ec.element_to_be_clickable((By.XPATH, toggle))).click()
    canvas = wait.until(lambda d: d.execute_script(CANVAS_JS))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    width, height = canvas.size["width"], canvas.size["height"]
    (x, y), rest = points[0], points[1:]
    hand = ActionChains(driver).move_to_element_with_offset(canvas, x - width // 2, y - height // 2)
    hand.click_and_hold()
    for next_x, next_y in rest:
        hand.move_by_offset(next_x - x, next_y - y)
        x, y = next_x, next_y
    hand.release().perform()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "The dream covers"))


@pytest.fixture(scope="module")
def running_server(tmp_path_factory):
    need_browser()
    workdir = tmp_path_factory.mktemp("server")
    env = {
        **os.environ,
        # No weights named, none to be had: the offline path, with or without network.
        "DEEPDREAM_OFFLINE": "1",
        "KERAS_HOME": str(workdir / "empty-keras-home"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    try:
        with harness.running_server(workdir, harness.Deadline.after(120), env=env) as server:
            yield server
    except RuntimeError as error:  # it did not start: say why, from its log
        pytest.fail(str(error))


@pytest.fixture
def server(running_server) -> str:
    return running_server.url


@pytest.fixture
def browser(tmp_path):
    with harness.chromium(tmp_path / "profile") as driver:
        yield driver


def _screenshot(driver, name: str, tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DEEPDREAM_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    # Grow the window to the page so the screenshot shows everything, side by side.
    height = driver.execute_script(
        "const m = document.querySelector('section.main, [data-testid=\"stMain\"]');"
        "return Math.max(document.body.scrollHeight, m ? m.scrollHeight : 0);"
    )
    driver.set_window_size(1400, max(1000, min(int(height) + 150, 3000)))
    time.sleep(1)
    path = folder / name
    driver.save_screenshot(str(path))
    return path


def test_upload_generate_and_save_the_dream_in_chromium(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    photo = ROOT / "tests" / "data" / "astronaut.jpg"
    browser.get(server)  # first in this file: the fresh server's first visit starts TensorFlow
    # Never a blank page meanwhile (seconds): the title, and what the server is doing.
    starting = WebDriverWait(browser, 60, poll_frequency=0.1)
    starting.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Starting the dream"))
    assert "DeepDream Studio" in browser.find_element(By.TAG_NAME, "body").text
    wait = WebDriverWait(browser, 120)
    upload = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, PHOTO_INPUT)))
    # The notice about missing InceptionV3 weights is visible before anything else happens.
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "offline VGG16 model"))
    upload.send_keys(str(photo))
    button_xpath = "//button[starts-with(normalize-space(), 'Generate DeepDream Image')]"
    button = wait.until(ec.element_to_be_clickable((By.XPATH, button_xpath)))
    button.click()
    wait.until(
        ec.presence_of_element_located((By.XPATH, "//button[contains(., 'Download the dream')]"))
    )
    dream_src = wait.until(lambda d: d.execute_script(DREAM_SRC_JS))
    assert dream_src.startswith(server)

    # What "Save image as" saves: the bytes behind the <img>.
    with urllib.request.urlopen(dream_src, timeout=10) as reply:
        assert reply.headers["Content-Type"] == "image/png"
        data = reply.read()
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.format == "PNG"
        assert img.size == Image.open(photo).size
        assert img.text["deepdream.model"] == "vgg16_offline"

    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Traceback" not in body
    shot = _screenshot(browser, "browser-result.png", tmp_path)
    assert shot.stat().st_size > 10_000


def test_a_broken_upload_shows_a_message_and_the_page_still_works(
    running_server, browser, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    broken = tmp_path / "broken.jpg"
    broken.write_bytes((ROOT / "tests" / "data" / "astronaut.jpg").read_bytes()[:4000])
    server = running_server.url
    browser.get(server)
    wait = WebDriverWait(browser, 60)
    upload = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, PHOTO_INPUT)))
    upload.send_keys(str(broken))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "damaged or incomplete"))
    assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text
    # The server lives on, and the page takes the next photo as usual.
    assert running_server.process.poll() is None
    with urllib.request.urlopen(f"{server}/_stcore/health", timeout=5) as reply:
        assert reply.status == 200
    upload = browser.find_element(By.CSS_SELECTOR, PHOTO_INPUT)
    upload.send_keys(str(ROOT / "tests" / "data" / "astronaut.jpg"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Your photo · 256×256"))
    assert "damaged or incomplete" not in browser.find_element(By.TAG_NAME, "body").text


def test_stop_keeps_the_partial_dream(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    # A 1024-pixel photo: its 30 steps take many seconds, so Stop surely lands mid-dream.
    big = tmp_path / "astronaut-1024.png"
    Image.open(ROOT / "tests" / "data" / "astronaut.jpg").resize((1024, 1024)).save(big)
    browser.get(server)
    wait = WebDriverWait(browser, 120)
    upload = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, PHOTO_INPUT)))
    upload.send_keys(str(big))
    button_xpath = "//button[starts-with(normalize-space(), 'Generate DeepDream Image')]"
    wait.until(ec.element_to_be_clickable((By.XPATH, button_xpath))).click()
    # The first live preview arrives after 5 of the 30 steps; stop right then.
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Dreaming..."))
    browser.find_element(By.XPATH, "//button[normalize-space()='Stop']").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "was stopped early"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "stopped after step" in body
    # The page streams in element by element: wait for the button rather than race it.
    wait.until(
        ec.presence_of_element_located((By.XPATH, "//button[contains(., 'Download the dream')]"))
    )
    _screenshot(browser, "browser-stopped.png", tmp_path)


def test_the_dreamed_video_plays_in_chromium(server, browser, tmp_path, photo):
    """The Animate page's MP4 reaches a playable state, with the clip's duration and size."""
    from clips import pan, write_clip
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    clip = tmp_path / "pan.mp4"
    write_clip(clip, pan(photo, 12, (96, 160), step=4), fps=12)  # 1.0 s, 160x96
    browser.get(f"{server}/animate")
    wait = WebDriverWait(browser, 240)
    upload = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, PHOTO_INPUT)))
    upload.send_keys(str(clip))
    button_xpath = "//button[starts-with(normalize-space(), 'Generate DeepDream Video')]"
    wait.until(ec.element_to_be_clickable((By.XPATH, button_xpath))).click()
    wait.until(
        ec.presence_of_element_located((By.XPATH, "//button[contains(., 'Download the dream')]"))
    )
    wait.until(lambda d: len(d.find_elements(By.TAG_NAME, "video")) >= 2)
    dream = browser.find_elements(By.TAG_NAME, "video")[-1]
    # readyState 4 (HAVE_ENOUGH_DATA): the browser decoded it and can play it through.
    state = wait.until(
        lambda d: d.execute_script(
            "const v = arguments[0]; v.muted = true; v.play().catch(() => {});"
            "return v.readyState >= 4 && v.videoWidth > 0 ? "
            "[v.readyState, v.duration, v.videoWidth, v.videoHeight, v.error] : null;",
            dream,
        )
    )
    _, duration, width, height, error = state
    assert error is None
    assert (width, height) == (160, 96)
    assert abs(duration - 1.0) < 0.15
    _screenshot(browser, "browser-animate.png", tmp_path)


def test_a_guided_dream_in_chromium(server, browser, tmp_path):
    """A guide uploaded in the sidebar shows its thumbnail, and the dream records its hash."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from deepdream import Guide
    from deepdream.media.image import decode_image

    guide = tmp_path / "stripes.png"
    rows = (np.arange(96) // 4 % 2 * 255).astype(np.uint8)  # horizontal stripes, 8 px apart
    Image.fromarray(np.repeat(rows[:, None], 96, axis=1)).convert("RGB").save(guide)
    browser.get(server)
    wait = WebDriverWait(browser, 120)
    guide_input = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, GUIDE_INPUT)))
    guide_input.send_keys(str(guide))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Guide · 96×96"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Guide strength"))
    photo = ROOT / "tests" / "data" / "astronaut.jpg"
    browser.find_element(By.CSS_SELECTOR, PHOTO_INPUT).send_keys(str(photo))
    button_xpath = "//button[starts-with(normalize-space(), 'Generate DeepDream Image')]"
    wait.until(ec.element_to_be_clickable((By.XPATH, button_xpath))).click()
    wait.until(
        ec.presence_of_element_located((By.XPATH, "//button[contains(., 'Download the dream')]"))
    )
    data = _dream_png(browser, wait)
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert (
            img.text["deepdream.guide"] == Guide.from_image(decode_image(guide.read_bytes())).digest
        )
        assert img.size == Image.open(photo).size
    assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text
    _screenshot(browser, "browser-guided.png", tmp_path)


def _dream_png(driver, wait) -> bytes:
    """The shown dream's PNG (the picture captioned "DeepDream ·", not the gallery's
    thumbnails), fetched as "Save image as" would."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    wait.until(
        ec.presence_of_element_located((By.XPATH, "//button[contains(., 'Download the dream')]"))
    )
    source = wait.until(lambda d: d.execute_script(DREAM_SRC_JS))
    with urllib.request.urlopen(source, timeout=10) as reply:
        return reply.read()


def test_a_painted_mask_limits_the_dream_in_chromium(server, browser, tmp_path):
    """A stroke drawn with pointer actions on the canvas: the dream lands there only."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    photo = ROOT / "tests" / "data" / "astronaut.jpg"
    browser.get(server)
    wait = WebDriverWait(browser, 120)
    upload = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, PHOTO_INPUT)))
    upload.send_keys(str(photo))
    # A stroke across the top left quarter of the 512-pixel canvas (the 256-pixel photo x2).
    paint_stroke(browser, wait, [(40, 60), (120, 60), (200, 60)])
    _screenshot(browser, "browser-mask-painted.png", tmp_path)
    button_xpath = "//button[starts-with(normalize-space(), 'Generate DeepDream Image')]"
    wait.until(ec.element_to_be_clickable((By.XPATH, button_xpath))).click()
    data = _dream_png(browser, wait)
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.text["deepdream.mask"].startswith("sha256:")
        dreamed = np.asarray(img.convert("RGB"), dtype=np.int16)
    original = np.asarray(Image.open(photo).convert("RGB"), dtype=np.int16)
    change = np.abs(dreamed - original).max(axis=2)
    # The stroke ran along canvas rows ~60 (photo rows ~30), columns 40-200 (photo 20-100).
    assert change[20:40, 30:90].mean() > 5  # dreamed under the stroke
    assert change[128:, :].max() <= 1 and change[:, 160:].max() <= 1  # untouched elsewhere
    _screenshot(browser, "browser-mask-dream.png", tmp_path)


#: Small settings for the browser's dreams, given the way a user shares them: as a link.
SMALL_LINK = {
    "model": "vgg16_offline",
    "layers": "block3_conv3:1,block4_conv2:1",
    "steps_per_octave": "3",
    "octaves": "2",
    "max_side": "256",
    "seed": "5",
}


def test_a_dropped_dream_redreams_to_the_same_bytes_in_chromium(server, browser, tmp_path):
    """A dream made from a link's settings; then, in a new session, its PNG dropped on the
    page and the same photo dreamed again (by the keyboard shortcut): the very same bytes."""
    from urllib.parse import urlencode

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    photo = ROOT / "tests" / "data" / "astronaut.jpg"
    wait = WebDriverWait(browser, 180)
    browser.get(f"{server}/?{urlencode(SMALL_LINK)}")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "restored from the link"))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, PHOTO_INPUT))).send_keys(str(photo))
    button_xpath = "//button[starts-with(normalize-space(), 'Generate DeepDream Image')]"
    wait.until(ec.element_to_be_clickable((By.XPATH, button_xpath))).click()
    first = _dream_png(browser, wait)
    assert png_text_of(first)["deepdream.seed"] == "5"
    assert png_text_of(first)["deepdream.steps_per_octave"] == "3"
    dream_file = tmp_path / "dream.png"
    dream_file.write_bytes(first)

    browser.get(server)  # a new session: the default settings
    upload = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, RECIPE_INPUT)))
    upload.send_keys(str(dream_file))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "restored from your dream"))
    browser.find_element(By.CSS_SELECTOR, PHOTO_INPUT).send_keys(str(photo))
    wait.until(ec.element_to_be_clickable((By.XPATH, button_xpath)))
    time.sleep(1)  # let the page settle after the upload's rerun
    browser.find_element(By.TAG_NAME, "h1").click()  # focus on the page, not in a field
    ActionChains(browser).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(
        Keys.CONTROL
    ).perform()
    again = _dream_png(browser, wait)
    assert again == first  # pixels and record, byte for byte
    assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text


def png_text_of(data: bytes) -> dict[str, str]:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return dict(img.text)


def test_the_gallery_and_the_before_after_slider_in_chromium(server, browser, tmp_path):
    """Two dreams: two thumbnails, newest first; the before/after slider moves the split."""
    from urllib.parse import urlencode

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    photo = ROOT / "tests" / "data" / "astronaut.jpg"
    wait = WebDriverWait(browser, 180)
    browser.get(f"{server}/?{urlencode(SMALL_LINK | {'steps_per_octave': '2'})}")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, PHOTO_INPUT))).send_keys(str(photo))
    button_xpath = "//button[starts-with(normalize-space(), 'Generate DeepDream Image')]"
    for _ in range(2):
        wait.until(ec.element_to_be_clickable((By.XPATH, button_xpath))).click()
        _dream_png(browser, wait)
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Your dream is ready"))
    thumbnails = "//*[@data-testid='stImage'][.//*[contains(., 'Photo ·')]]"
    wait.until(lambda d: len(d.find_elements(By.XPATH, thumbnails)) == 2)
    assert browser.find_elements(By.XPATH, "//button[contains(., 'Download all (2 dreams')]")
    browser.find_element(By.XPATH, "//label[contains(., 'Before and after')]").click()
    slider = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".dd-slider")))
    before = browser.find_element(By.CSS_SELECTOR, ".dd-before")
    assert before.value_of_css_property("clip-path") == "inset(0px 50% 0px 0px)"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    slider.send_keys(*[Keys.ARROW_RIGHT] * 40)  # 0.5 a step: the photo now covers 70%
    wait.until(lambda d: before.value_of_css_property("clip-path") == "inset(0px 30% 0px 0px)")
    _screenshot(browser, "browser-gallery-slider.png", tmp_path)
