"""``python -m deepdream``: the command line (``deepdream.cli``)."""

from .cli import run

if __name__ == "__main__":
    run()
