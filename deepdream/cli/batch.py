"""The command line's folder mode: ``python -m deepdream IN_DIR OUT_DIR [...] [--ray [ADDR]]``.

Contract: ``add_batch_arguments(parser)`` adds the folder options to the CLI's parser;
``run_batch_command(args, config)`` dreams every image of ``args.input`` into ``args.output``
(see ``deepdream.batch``) in this process, or on Ray with ``--ray`` (``deepdream.cluster``),
shows files done / total, images per minute and the time left on stderr, lists each failure
with its reason, ends with ``N dreamed, M skipped, K failed`` and returns the exit code:
0 when none failed, 1 when some did, 2 for bad arguments, 3 when the model cannot be loaded.
Ray is imported only with ``--ray``.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..batch import (
    BatchArgumentError,
    BatchPlan,
    BatchProgress,
    ModelChoice,
    dream_in_process,
    plan_batch,
    remove_leftovers,
    run_batch,
)
from ..config import DreamConfig
from .terminal import (
    EXIT_BAD_INPUT,
    EXIT_MODEL,
    EXIT_SOME_FAILED,
    CommandExit,
    config_for,
    model_or_exit,
)

FOLDER_ONLY = ("ray", "workers", "threads", "recursive", "overwrite")


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that only make sense when the input is a folder."""
    group = parser.add_argument_group(
        "folders", "when the input is a folder: every image in it is dreamed into OUTPUT/<name>.png"
    )
    group.add_argument(
        "--recursive", action="store_true", help="also dream sub-folders (mirrored in OUTPUT)"
    )
    group.add_argument(
        "--overwrite", action="store_true", help="dream again files whose dream already exists"
    )
    group.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="dream on Ray: alone, a private Ray on this machine; with host:port or "
        "ray://host:port, the running cluster there (its token is needed, see docs/cluster.md)",
    )
    group.add_argument(
        "--workers", type=int, help="with --ray: how many workers (default: one per node or GPU)"
    )
    group.add_argument(
        "--threads",
        type=int,
        help="with --ray: CPU threads each worker owns (default: the CPUs shared equally)",
    )


def folder_options_without_folder(args: argparse.Namespace) -> str | None:
    """The message for folder options given with a single photo, else None."""
    used = [f"--{name}" for name in FOLDER_ONLY if getattr(args, name) not in (None, False)]
    if used and not (args.input is not None and args.input.is_dir()):
        return f"{', '.join(used)} only apply when the input is a folder of photos."
    return None


def run_batch_command(args: argparse.Namespace, config: DreamConfig) -> int:
    """Dream the folder ``args.input`` into ``args.output``; returns the exit code."""
    for name in ("workers", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CommandExit(f"--{name} must be at least 1.", EXIT_BAD_INPUT)
    try:
        plan = plan_batch(args.input, args.output, args.recursive, args.overwrite)
    except BatchArgumentError as error:
        raise CommandExit(error, EXIT_BAD_INPUT) from None
    remove_leftovers(plan)
    choice = ModelChoice(args.model, args.weights, args.precision)
    if not plan.jobs:
        return _report(plan, run_batch(plan, []), args.quiet)
    if args.ray:
        return _run_on_ray(args, config, choice, plan)
    return _run_here(args, config, choice, plan)


def _run_here(args, config: DreamConfig, choice: ModelChoice, plan: BatchPlan) -> int:
    model = model_or_exit(args)
    config = config_for(config, model)
    outcomes = dream_in_process(plan.jobs, config, model)
    return _report(plan, run_batch(plan, outcomes), args.quiet, model.description)


def _run_on_ray(args, config: DreamConfig, choice: ModelChoice, plan: BatchPlan) -> int:
    from ..cluster import ClusterError, plan_workers
    from ..cluster.batch import dream_on_ray
    from ..cluster.connection import cluster_size, connect
    from ..cluster.worker import start_workers, stop_workers, worker_notice

    local = args.ray == "local"
    try:
        wanted = (args.workers or 1) * (args.threads or 1) if local else None
        connect(args.ray, num_cpus=max(os.cpu_count() or 1, wanted) if wanted else None)
        cpus, gpus, nodes = cluster_size()
        workers_plan = plan_workers(args.workers, args.threads, cpus=cpus, gpus=gpus, nodes=nodes)
        workers, infos = start_workers(choice, workers_plan)
    except ClusterError as error:
        raise CommandExit(error, EXIT_MODEL if "model" in str(error) else EXIT_BAD_INPUT) from None
    notice, nodes_used = worker_notice(infos)
    if notice:
        print(f"note: {notice}", file=sys.stderr)
    if not args.quiet:
        print(
            f"on Ray ({args.ray}): {_count(workers_plan.workers, 'worker')} x "
            f"{_count(workers_plan.threads, 'thread')} on {_count(nodes_used, 'node')}",
            file=sys.stderr,
        )
    try:
        outcomes = dream_on_ray(plan.jobs, config, workers, infos)
        return _report(plan, run_batch(plan, outcomes), args.quiet)
    finally:
        stop_workers(workers)


def _report(plan: BatchPlan, progress, quiet: bool, description: str | None = None) -> int:
    """Show the progress as it comes, then the failures and the summary line."""
    from tqdm import tqdm

    update: BatchProgress | None = None
    with tqdm(
        total=len(plan.jobs), disable=quiet, unit="file", file=sys.stderr, dynamic_ncols=True
    ) as bar:
        for update in progress:
            if update.job is None:
                continue
            bar.update(1)
            bar.set_postfix_str(f"{update.per_minute:.1f} images/min")
            if update.failure is not None:
                bar.write(f"failed: {update.job.name}: {update.failure.reason}", file=sys.stderr)
    summary = update.summary
    if summary.failures:
        print("These files could not be dreamed:", file=sys.stderr)
        for name, reason in summary.failures:
            print(f"  {name}: {reason}", file=sys.stderr)
    if description and not quiet:
        print(f"dreamed with {description}", file=sys.stderr)
    print(summary.line(), file=sys.stderr)
    return EXIT_SOME_FAILED if summary.failures else 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"
