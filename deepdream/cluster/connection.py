"""Joining Ray.

Contract:
- ``connect(address)`` joins Ray: ``"local"`` starts a private Ray on this machine (never the
  last cluster Ray remembers), ``host:port`` or ``ray://host:port`` joins a running cluster.
  Token authentication stays on: the token comes from ``RAY_AUTH_TOKEN``,
  ``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token`` (Ray's own rules); a refusal raises
  ``ClusterError`` saying where to put the token. The project is shipped to the workers with
  ``runtime_env={"py_modules": [deepdream]}``: nodes need the requirements installed, not a
  checkout, and always run the driver's version of the code. A second call does nothing.
- ``cluster_size()`` is the connected cluster's (CPUs, GPUs, alive nodes).
- ``ray_cause(error)`` is the original error's own sentence out of a Ray error.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import ray

from . import NAMESPACE, ClusterError

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the deepdream package, for the workers


def connect(address: str = "local", num_cpus: int | None = None) -> None:
    """Join (or, for ``"local"``, start) Ray in this process; see the module docstring.

    Raises:
        ClusterError: the cluster cannot be reached, or refuses this process's token.
    """
    if ray.is_initialized():
        return
    options: dict = {
        "namespace": NAMESPACE,
        "runtime_env": {
            "py_modules": [str(PACKAGE_DIR)],
            "env_vars": {"TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")},
        },
        "log_to_driver": False,  # workers' TensorFlow chatter stays in Ray's log files
        "logging_level": logging.WARNING,
    }
    if address == "local":
        options.update(include_dashboard=False, num_cpus=num_cpus)
    try:
        ray.init(address=address, **options)
    except Exception as error:  # Ray raises many types here; the user needs one message
        raise ClusterError(_connect_help(address, error)) from error


def _connect_help(address: str, error: Exception) -> str:
    text = str(error)
    if "token" in text.lower() or "auth" in type(error).__name__.lower():
        return (
            f"The Ray cluster at {address} refused this machine: it needs the cluster's token. "
            "Copy ~/.ray/auth_token from the head node to this machine (or set RAY_AUTH_TOKEN "
            "to its content) and set RAY_AUTH_MODE=token."
        )
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"Could not reach the Ray cluster at {address}: {first[:200]}"


def cluster_size() -> tuple[int, int, int]:
    """(CPUs, GPUs, alive nodes) of the connected cluster."""
    resources = ray.cluster_resources()
    nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
    return int(resources.get("CPU", 0)), int(resources.get("GPU", 0)), max(1, nodes)


def ray_cause(error: Exception) -> str:
    """The original error's own sentence from a Ray error, without Ray's traceback."""
    cause = getattr(error, "cause", None)
    if cause is not None:
        return str(cause).strip().splitlines()[0][:300]
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    named = [line for line in lines if line.split(":", 1)[0].endswith(("Error", "Exception"))]
    return (named[-1] if named else lines[-1] if lines else type(error).__name__)[:300]
