"""A Display P3 ICC profile for the colour tests, built from its published primaries.

No package on these machines ships one (colord's and icc-profiles-free's lists hold none), and
phones write exactly this kind of profile: an ICC v2 matrix/TRC monitor profile, D65 white,
the sRGB tone curve, primaries red (0.680, 0.320), green (0.265, 0.690), blue (0.150, 0.060).
The matrix is P3's RGB->XYZ adapted to the D50 profile connection space with Bradford, as the
ICC specification asks. ``p3_to_srgb`` is the same conversion done directly in numpy, so a
test can check what ImageCms makes of the profile against it."""

from __future__ import annotations

import struct

import numpy as np

# RGB (linear) -> XYZ for Display P3 and for sRGB, both D65.
P3_TO_XYZ = np.array(
    [
        [0.4865709, 0.2656677, 0.1982173],
        [0.2289746, 0.6917385, 0.0792869],
        [0.0, 0.0451134, 1.0439444],
    ]
)
SRGB_TO_XYZ = np.array(
    [
        [0.4123908, 0.3575843, 0.1804808],
        [0.2126390, 0.7151687, 0.0721923],
        [0.0193308, 0.1191948, 0.9505322],
    ]
)
BRADFORD_D65_TO_D50 = np.array(
    [
        [1.0478112, 0.0228866, -0.0501270],
        [0.0295424, 0.9904844, -0.0170491],
        [-0.0092345, 0.0150436, 0.7521316],
    ]
)
D50 = (0.9642, 1.0, 0.8249)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def srgb_decode(values: np.ndarray) -> np.ndarray:
    """The sRGB tone curve, encoded [0, 1] -> linear."""
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def srgb_encode(values: np.ndarray) -> np.ndarray:
    values = np.clip(values, 0.0, 1.0)
    return np.where(values <= 0.0031308, values * 12.92, 1.055 * values ** (1 / 2.4) - 0.055)


def _text(kind: bytes, text: str) -> bytes:
    ascii_text = text.encode() + b"\0"
    if kind == b"desc":
        return (
            b"desc\0\0\0\0"
            + struct.pack(">I", len(ascii_text))
            + ascii_text
            + bytes(4 + 4 + 2 + 1 + 67)
        )
    return b"text\0\0\0\0" + ascii_text


def display_p3_profile() -> bytes:
    """The ICC profile bytes (see the module docstring)."""
    matrix = BRADFORD_D65_TO_D50 @ P3_TO_XYZ
    curve_points = srgb_decode(np.linspace(0.0, 1.0, 1024))
    curve = b"curv\0\0\0\0" + struct.pack(">I", 1024)
    curve += np.round(curve_points * 65535).astype(">u2").tobytes()
    tags = [
        (b"desc", _text(b"desc", "Display P3 (DeepDream Studio test profile)")),
        (b"cprt", _text(b"text", "No copyright, use freely")),
        (b"wtpt", _xyz(*D50)),
        (b"rXYZ", _xyz(*matrix[:, 0])),
        (b"gXYZ", _xyz(*matrix[:, 1])),
        (b"bXYZ", _xyz(*matrix[:, 2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, data = struct.pack(">I", len(tags)), b""
    for signature, payload in tags:
        padded = payload + b"\0" * (-len(payload) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(payload))
        data += padded
    size = 128 + table_size + len(data)
    header = struct.pack(">I4sI4s4s4s", size, b"lcms", 0x02100000, b"mntr", b"RGB ", b"XYZ ")
    header += struct.pack(">6H", 2026, 12, 1, 0, 0, 0) + b"acsp" + bytes(4 + 4 + 4 + 4 + 8 + 4)
    header += _s15(D50[0]) + _s15(D50[1]) + _s15(D50[2]) + bytes(4 + 16 + 28)
    assert len(header) == 128
    return header + table + data


def p3_to_srgb(pixels: np.ndarray) -> np.ndarray:
    """uint8 Display P3 pixels as uint8 sRGB ones, computed directly (colorimetric, clipped)."""
    linear = srgb_decode(pixels.astype(np.float64) / 255.0)
    srgb_linear = linear @ (np.linalg.inv(SRGB_TO_XYZ) @ P3_TO_XYZ).T
    return np.round(srgb_encode(srgb_linear) * 255.0).astype(np.uint8)
