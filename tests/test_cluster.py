"""Ray for real: a head and a second node on this machine, in a private network namespace
holding only ``lo`` (Ray rewrites 127.0.0.1 to the machine's address otherwise), with token
authentication on. Every Ray process is started here with ``start_new_session`` and stopped
through its own process group id (SIGTERM, then SIGKILL after a grace period), never by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepdream.media.image import decode_image, png_text

pytest.importorskip("ray")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PORT = 6379  # free for sure: nothing else lives in the private namespace
ADDRESS = f"127.0.0.1:{PORT}"
NODE_OPTIONS = ["--block", "--disable-usage-stats", "--object-store-memory=200000000"]
GRACE = 5  # Ray keeps nothing worth a longer wait: what is left of the group is killed


class PrivateNetwork:
    """A network namespace holding only ``lo``, kept alive by one ``sleep`` process."""

    def __init__(self) -> None:
        if not all(shutil.which(tool) for tool in ("unshare", "nsenter", "ip")):
            pytest.skip("needs unshare and nsenter (util-linux) and ip (iproute2)")
        self.holder = subprocess.Popen(["unshare", "-n", "sleep", "infinity"])
        path = f"/proc/{self.holder.pid}/ns/net"
        deadline = time.monotonic() + 5
        while os.readlink(path) == os.readlink("/proc/self/ns/net"):
            if self.holder.poll() is not None or time.monotonic() > deadline:
                self.holder.wait()
                pytest.skip("needs a private network namespace (unshare -n, as root)")
            time.sleep(0.05)
        self.prefix = ["nsenter", f"--net={path}"]
        subprocess.run([*self.prefix, "ip", "link", "set", "lo", "up"], check=True)

    def close(self) -> None:
        self.holder.kill()
        self.holder.wait()


def start_ray(network: PrivateNetwork, args: list[str], env: dict, log: Path):
    """``ray start ... --block`` in its own process group; returns the Popen."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [*network.prefix, "ray", "start", *args, *NODE_OPTIONS],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its raylet, GCS and workers share its group id
        )


def stop_group(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    """Stop the process group led by ``process`` (its own PID); SIGKILL after ``GRACE``."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(GRACE)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
    process.wait()


def run_in_network(network, env, code: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*network.prefix, sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for_nodes(network, env, count: int) -> None:
    done = run_in_network(
        network,
        env,
        f"""
        import time
        import ray
        from deepdream.cluster.connection import connect
        connect({ADDRESS!r})
        deadline = time.monotonic() + 120
        while True:
            alive = sum(1 for node in ray.nodes() if node.get("Alive"))
            if alive >= {count} or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        print(alive)
        """,
    )
    assert done.returncode == 0 and done.stdout.split()[-1] == str(count), done.stderr[-2000:]


@pytest.fixture(scope="module")
def ray_head():
    """A private network with a Ray head (2 CPUs), token authentication on."""
    network = PrivateNetwork()
    temp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))  # short: Ray's socket paths
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN=secrets.token_hex(32),
        RAY_TMPDIR=str(temp),
        # A dead node is noticed after ~3 s instead of ~30 s.
        RAY_health_check_period_ms="1000",
        RAY_health_check_failure_threshold="3",
        DEEPDREAM_RAY_ADDRESS=ADDRESS,
        # No InceptionV3 weights here: workers asked for it say so and use the offline model.
        DEEPDREAM_OFFLINE="1",
        KERAS_HOME=str(temp / "keras"),
    )
    head = start_ray(
        network,
        ["--head", "--node-ip-address=127.0.0.1", f"--port={PORT}", "--num-cpus=2"]
        + ["--include-dashboard=false"],
        env,
        temp / "head.log",
    )
    try:
        wait_for_nodes(network, env, 1)
        yield network, env, temp
    finally:
        stop_group(head)
        network.close()
        shutil.rmtree(temp, ignore_errors=True)


CLIENT = """
import json, sys, threading, time
import numpy as np
from deepdream.batch import ModelChoice
from deepdream.cluster import cluster_address
from deepdream.cluster.sessions import ClusterDreams
from deepdream.config import PRESETS
from deepdream.media.image import decode_image

loaded_at_start = "tensorflow" in sys.modules
photo = np.asarray(np.random.default_rng(1).integers(0, 255, (72, 96, 3)), dtype=np.uint8)
config = PRESETS["gentle"].with_model("vgg16_offline").replace(
    steps_per_octave=2, octaves=1, max_side=64, preview_every=1, seed=5
)
pool = ClusterDreams(
    cluster_address(), ModelChoice("vgg16_offline", precision="float32"), workers=1, threads=1
)
report = {"description": pool.info["description"], "node": pool.info["address"]}
updates = list(pool.dream(photo, config))
final = updates[-1].result
png = final.to_png()  # the engine's own result, its record written here
report["done"] = [u.done for u in updates]
report["previews"] = [None if u.preview is None else list(u.preview.shape) for u in updates]
report["result_shape"] = list(decode_image(png).shape)
report["image_equal_png"] = bool(np.array_equal(decode_image(png), final.image))
report["metadata_steps"] = final.metadata()["deepdream.steps_per_octave"]

# A long dream holds the only worker; a second one waits in line (the slots' queue, told it
# is next), then runs once the first is closed. Without the remote cancel, the second would
# wait for 3 x 400 steps.
long = pool.dream(photo, config.replace(steps_per_octave=400, octaves=3, max_side=256))
report["long_first"] = next(long).done
places, second = [], {}

def dream_second():
    rest = list(pool.dream(photo, config, wait=places.append))
    second.update(finished=rest[-1].result is not None, at=time.monotonic())

thread = threading.Thread(target=dream_second)
thread.start()
deadline = time.monotonic() + 60
while len(places) < 3 and time.monotonic() < deadline:
    time.sleep(0.05)
report["places"] = sorted(set(places))
started = time.monotonic()
long.close()
thread.join(120)
report["second_after_close"] = [second.get("finished", False), second.get("at", 1e9) - started]
report["tensorflow"] = [loaded_at_start, "tensorflow" in sys.modules]
print("REPORT " + json.dumps(report))
"""


def test_remote_dream_streams_waits_in_line_and_cancels_without_tensorflow(ray_head):
    network, env, _ = ray_head
    done = run_in_network(network, env, CLIENT)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.split("REPORT ", 1)[1])
    assert report["tensorflow"] == [False, False]  # the driver never imported TensorFlow
    assert "VGG16" in report["description"]
    assert report["done"] == [1, 2, 2]  # two steps, then the final update
    assert report["previews"][-1] == [72, 96, 3]  # the final image has the photo's size
    assert report["result_shape"] == [72, 96, 3] and report["image_equal_png"]
    assert report["metadata_steps"] == "2" and report["node"] == "127.0.0.1"
    assert report["long_first"] == 1
    assert report["places"] == [0]  # queued, told it is next, while the long one ran
    finished, seconds = report["second_after_close"]
    # 1200 steps at 256 px take minutes on these cores; a cancelled dream frees the worker.
    assert finished and seconds < 60


def test_a_driver_without_the_token_is_refused_with_a_plain_message(ray_head, tmp_path):
    network, env, _ = ray_head
    stranger = {k: v for k, v in env.items() if not k.startswith("RAY_AUTH")}
    stranger.update(HOME=str(tmp_path), RAY_AUTH_MODE="token")  # no ~/.ray/auth_token here
    done = run_in_network(
        network,
        stranger,
        f"""
        from deepdream.cluster import ClusterError
        from deepdream.cluster.connection import connect
        try:
            connect({ADDRESS!r})
        except ClusterError as error:
            print("REFUSED", error)
        """,
        timeout=120,
    )
    assert "REFUSED" in done.stdout, done.stderr[-2000:]
    assert "token" in done.stdout and "~/.ray/auth_token" in done.stdout


def make_photos(folder: Path, count: int) -> None:
    folder.mkdir()
    rng = np.random.default_rng(7)
    for index in range(count):
        pixels = rng.integers(0, 255, (112, 128, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"photo{index:02d}.png")


def test_a_batch_survives_losing_a_node(ray_head, tmp_path):
    """Two workers on two nodes; the second node is killed (its whole process group) while
    the batch runs. Every output appears once, complete, and nothing failed."""
    network, env, temp = ray_head
    node = start_ray(network, [f"--address={ADDRESS}", "--num-cpus=1"], env, temp / "node.log")
    cli = None
    try:
        wait_for_nodes(network, env, 2)
        source, target = tmp_path / "photos", tmp_path / "dreams"
        make_photos(source, 10)
        command = [str(source), str(target), "--ray", ADDRESS, "--workers", "2"]
        command += ["--threads", "1", "--model", "vgg16_offline", "--precision", "float32"]
        command += ["--steps", "3", "--octaves", "1", "--max-side", "128", "--seed", "2"]
        cli = subprocess.Popen(
            [*network.prefix, sys.executable, "-m", "deepdream", *command],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 240
        while len(list(target.glob("*.png"))) < 2 and time.monotonic() < deadline:
            assert cli.poll() is None, cli.communicate()[1][-3000:]
            time.sleep(0.1)
        written_before = len(list(target.glob("*.png")))
        assert written_before < 10 and cli.poll() is None  # the kill lands mid-batch
        stop_group(node, signal.SIGKILL)

        _, err = cli.communicate(timeout=300)
        assert cli.returncode == 0, err[-3000:]
    finally:
        if cli is not None and cli.poll() is None:
            cli.kill()
            cli.wait()
        stop_group(node)
    lines = err.strip().splitlines()
    assert "2 workers x 1 thread on 2 nodes" in err
    assert lines[-1] == "10 dreamed, 0 skipped, 0 failed"  # each file written exactly once
    assert sorted(p.name for p in target.iterdir()) == [f"photo{i:02d}.png" for i in range(10)]
    for output in target.iterdir():
        data = output.read_bytes()
        assert decode_image(data).shape == (112, 128, 3)
        assert png_text(data)["deepdream.seed"] == "2"


FRAGILE = """
import json, os
from pathlib import Path
import ray
from deepdream.batch import BatchJob
from deepdream.cluster.batch import dream_on_ray
from deepdream.cluster.connection import connect
from deepdream.config import PRESETS

folder = Path(FOLDER)
connect(ADDRESS)

class Fragile:
    # Stands in for DreamWorker: one file kills the process dreaming it, as an
    # out-of-memory kill would; every other file comes back changed.
    def info(self):
        return {"pid": os.getpid(), "node": ray.get_runtime_context().get_node_id()}

    def dream_file(self, data, config, kind):
        if data == b"poison":
            with open(folder / "tries", "a") as tries:
                tries.write(f"{os.getpid()}\\n")
            os._exit(1)
        return data.upper()

workers = [ray.remote(Fragile).options(num_cpus=0.5, max_restarts=-1).remote() for _ in range(2)]
names = ["a", "b", "poison", "c", "d", "e"]
jobs = []
for name in names:
    (folder / name).write_bytes(b"poison" if name == "poison" else name.encode())
    jobs.append(BatchJob(folder / name, folder / (name + ".out"), name))
outcomes = {}
for job, outcome in dream_on_ray(jobs, PRESETS["gentle"], workers):
    assert job.name not in outcomes, job.name  # each file once
    outcomes[job.name] = outcome.decode() if isinstance(outcome, bytes) else outcome.reason
# Stopping early (the caller stops pulling) cancels the rest without an error; here the
# workers' whereabouts come from their info(), as start_workers hands them over.
infos = [ray.get(worker.info.remote()) for worker in workers]
again = dream_on_ray(jobs[:2] + jobs[3:], PRESETS["gentle"], workers, infos)
first = next(again)[0].name
again.close()
for worker in workers:
    ray.kill(worker, no_restart=True)
pids = (folder / "tries").read_text().split()
report = {"outcomes": outcomes, "tries": len(pids), "pids": len(set(pids)), "first": first}
print("REPORT " + json.dumps(report))
"""


def test_a_file_that_kills_its_worker_fails_after_three_tries_and_the_rest_go_on(
    ray_head, tmp_path
):
    network, env, _ = ray_head
    code = FRAGILE.replace("ADDRESS", repr(ADDRESS)).replace("FOLDER", repr(str(tmp_path)))
    done = run_in_network(network, env, code)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.split("REPORT ", 1)[1].splitlines()[0])  # Ray logs after
    outcomes = report["outcomes"]
    assert sorted(outcomes) == ["a", "b", "c", "d", "e", "poison"]
    assert all(outcomes[name] == name.upper() for name in "abcde")
    assert "stopped 3 times" in outcomes["poison"]
    # Three processes died, no more; the file queued behind it at its worker was not blamed.
    assert report["tries"] == 3 and report["pids"] == 3
    assert report["first"] in "abcde"  # the early stop: one outcome, then closed cleanly


def test_the_cli_with_ray_alone_starts_a_private_local_ray(tmp_path):
    """``--ray`` without an address: a fresh local Ray (never a remembered cluster), which the
    CLI stops again; a broken file is listed and the exit code is 1."""
    network = PrivateNetwork()
    temp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        RAY_AUTH_TOKEN=secrets.token_hex(32),
        RAY_TMPDIR=str(temp),
        HOME=str(temp),  # nothing of Ray's lands in the real home directory
    )
    source, target = tmp_path / "photos", tmp_path / "dreams"
    make_photos(source, 2)
    (source / "broken.jpg").write_bytes(b"not a photo")
    command = [str(source), str(target), "--ray", "--workers", "1", "--threads", "2"]
    command += ["--model", "vgg16_offline", "--precision", "float32", "--steps", "1"]
    command += ["--octaves", "1", "--max-side", "64"]
    cli = subprocess.Popen(
        [*network.prefix, sys.executable, "-m", "deepdream", *command],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the local Ray it starts belongs to its group
    )
    try:
        _, err = cli.communicate(timeout=300)
    finally:
        stop_group(cli)
        network.close()
        shutil.rmtree(temp, ignore_errors=True)
    assert cli.returncode == 1, err[-3000:]
    assert "on Ray (local): 1 worker x 2 threads on 1 node" in err
    assert err.strip().splitlines()[-1] == "2 dreamed, 0 skipped, 1 failed"
    assert "broken.jpg: This file is not an image" in err
    assert sorted(p.name for p in target.iterdir()) == ["photo00.png", "photo01.png"]


def test_bench_batch_quick_runs(tmp_path):
    """``python -m bench.batch --quick`` (numbers are printed, not judged) in a private network."""
    network = PrivateNetwork()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", RAY_TMPDIR=tempfile.mkdtemp(dir="/tmp"))
    bench = subprocess.Popen(
        [*network.prefix, sys.executable, "-m", "bench.batch", "--quick"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = bench.communicate(timeout=600)
    finally:
        stop_group(bench)
        network.close()
        shutil.rmtree(env["RAY_TMPDIR"], ignore_errors=True)
    assert bench.returncode == 0, err[-3000:]
    assert "local Ray, 2 workers x 1 thread" in out
    cluster_line = next(line for line in out.splitlines() if "dream on Ray" in line)
    assert cluster_line.rstrip().endswith("False")  # the client never imported TensorFlow


def test_worker_plans_fill_in_what_the_user_left_open():
    from deepdream.cluster import WorkerPlan, plan_workers

    assert plan_workers(None, None, cpus=16, nodes=2) == WorkerPlan(2, 8)  # one per node
    assert plan_workers(None, None, cpus=16, gpus=4, nodes=2) == WorkerPlan(4, 4, 1.0)
    assert plan_workers(3, None, cpus=16) == WorkerPlan(3, 5)
    assert plan_workers(None, 4, cpus=16) == WorkerPlan(4, 4)
    assert plan_workers(8, 1, cpus=2) == WorkerPlan(8, 1)  # as asked, even when crowded
    with pytest.raises(ValueError, match="workers"):
        WorkerPlan(0, 1)


def test_a_ray_error_is_reduced_to_the_original_sentence():
    from deepdream.cluster.connection import ray_cause

    text = "ActorDiedError: The actor died\nTraceback...\n  File x\nValueError: Unknown model 'x'."
    assert ray_cause(Exception(text)) == "ValueError: Unknown model 'x'."


PAGE = """
import json, sys, time
from streamlit.runtime.scriptrunner_utils.exceptions import StopException
from streamlit.testing.v1 import AppTest
from deepdream.media.image import decode_image, png_text

def small(at, steps, octaves, side):
    at.slider(key="steps").set_value(steps)
    at.slider(key="octaves").set_value(octaves)
    at.select_slider(key="max_side").set_value(side)
    at.run()

def rss():  # the kernel's VmHWM: this process's own peak (ru_maxrss keeps the forking parent's)
    from bench.harness import peak_rss_mib
    return peak_rss_mib()

stages = {"imports": rss()}
at = AppTest.from_file("app.py", default_timeout=600)
at.run()
stages["page"] = rss()
report = {"exception": bool(at.exception), "info": [i.value for i in at.info]}
report["warning"] = [w.value for w in at.warning]
photo = open("tests/data/astronaut.jpg", "rb").read()
at.file_uploader(key="upload").set_value(("a.jpg", photo, "image/jpeg")).run()
small(at, 2, 1, 128)
at.button(key="generate").click().run()
record = at.session_state["handover"].result
report["finished"] = [record["stopped"], list(decode_image(record["png"]).shape)]
stages["first dream"] = rss()
report["captions"] = [c.value for c in at.main.caption]

# Stop, as Streamlit does it: the run is interrupted at its next st.* call
import deepdream_studio.run
real_show = deepdream_studio.run.show_progress
def show_then_stop(widgets, update, losses):
    if update.done == 6:  # just after the first preview (every 5 steps)
        raise StopException()
    real_show(widgets, update, losses)
deepdream_studio.run.show_progress = show_then_stop
small(at, 60, 3, 512)  # minutes of work on these cores, unless it is cancelled
at.button(key="generate").click().run()
deepdream_studio.run.show_progress = real_show
at.run()
record = at.session_state["handover"].result
meta = png_text(record["png"])
report["stopped"] = [record["stopped"], list(decode_image(record["png"]).shape)]
report["stopped_after"] = meta.get("deepdream.stopped_after_step")
report["stopped_record"] = meta
small(at, 1, 1, 128)
started = time.monotonic()
at.button(key="generate").click().run()  # the worker is free again: the stop cancelled it
record = at.session_state["handover"].result
report["after_stop"] = [record["stopped"], time.monotonic() - started]
report["photo_peak_rss_mb"] = rss()

# The Animate page on the same cluster: a clip dreamed on the worker, frames streamed back
# and written into an MP4 here; then one stopped after two frames keeps them, playable.
sys.path.insert(0, "tests")
from clips import pan, write_clip
import io
import numpy as np
from deepdream.media.video import probe_video
clip = io.BytesIO()
frames = pan(np.asarray(decode_image(photo)), 5, (64, 96), step=4)
write_clip(clip, frames, fps=5)
at.switch_page("deepdream_studio/pages/animate.py").run()
small(at, 1, 1, 128)
at.file_uploader(key="video_upload").set_value(("pan.mp4", clip.getvalue(), "video/mp4")).run()
report["animate_info"] = [i.value for i in at.info]
at.button(key="generate_video").click().run()
motion = at.session_state["animate_handover"].result
report["video"] = [motion["stopped"], probe_video(motion["mp4"]).frames, motion["where"]]
report["video_captions"] = [c.value for c in at.main.caption]
import deepdream_studio.animate
real_motion = deepdream_studio.animate.show_motion_progress
def motion_then_stop(widgets, update):
    real_motion(widgets, update)
    if update.done == 2:
        raise StopException()
deepdream_studio.animate.show_motion_progress = motion_then_stop
small(at, 40, 2, 128)  # long frames: the stop lands while the worker is busy
at.button(key="generate_video").click().run()
deepdream_studio.animate.show_motion_progress = real_motion
at.run()
motion = at.session_state["animate_handover"].result
report["video_stopped"] = [motion["stopped"], probe_video(motion["mp4"]).frames]
small(at, 1, 1, 128)
started = time.monotonic()
at.button(key="generate_video").click().run()  # the worker is free again
motion = at.session_state["animate_handover"].result
report["video_after_stop"] = [motion["stopped"], time.monotonic() - started]
report["errors"] = [e.value for e in at.error]
report["tensorflow"] = "tensorflow" in sys.modules
report["peak_rss_mb"] = rss()
report["stages"] = stages
print("REPORT " + json.dumps(report))
"""


def local_stopped_record(model) -> dict[str, str]:
    """The record of a dream stopped in this process (what the cluster's must match)."""
    from deepdream import DreamConfig, DreamUpdate, partial_result

    photo = np.full((64, 64, 3), 120, np.uint8)
    update = DreamUpdate(1, 1, 1, 2, 1, 2, 0.5, 0.0, 0.1, preview=photo)
    config = DreamConfig(model=model.name, layers=((model.layers[4], 1.0),), octaves=1)
    return partial_result(photo, update, config, model).metadata()


def test_the_photo_and_animate_pages_dream_on_the_cluster_stop_and_never_load_tensorflow(
    ray_head, offline_vgg
):
    network, env, _ = ray_head
    done = run_in_network(network, env, PAGE, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.split("REPORT ", 1)[1])
    assert not report["exception"]
    assert any(ADDRESS in info for info in report["info"])  # the page says where dreams run
    assert any("offline VGG16" in warning for warning in report["warning"])
    assert report["finished"] == [False, [256, 256, 3]]
    assert any("on the cluster" in caption for caption in report["captions"])
    assert report["stopped"] == [True, [256, 256, 3]]  # laid onto the full-size photo
    assert report["stopped_after"] == "5 of 180"
    # The same record as a dream stopped in this process: weights, precision, octave sizes.
    record = report["stopped_record"]
    assert record.keys() == local_stopped_record(offline_vgg).keys()
    assert record["deepdream.weights"] == offline_vgg.weights
    assert record["deepdream.precision"] in ("float32", "bfloat16")
    assert (
        record["deepdream.octave_sizes"] == "131x131 183x183 256x256"
    )  # 3 octaves of the 256 px photo
    stopped, seconds = report["after_stop"]
    assert not stopped and seconds < 120  # not queued behind the cancelled 180-step dream
    # The Animate page on the cluster: the clip dreamed there, written here, all 5 frames.
    assert not report["errors"], report["errors"]
    assert report["video"] == [False, 5, f"Dreamed on the Ray cluster at {ADDRESS}."]
    assert any("on the Ray cluster" in caption for caption in report["video_captions"])
    assert report["video_stopped"] == [True, 2]  # the frames done, a playable MP4
    stopped, seconds = report["video_after_stop"]
    assert not stopped and seconds < 120  # the cancelled video no longer holds the worker
    # No TensorFlow in the web process, so no frame can have been dreamed there.
    assert report["tensorflow"] is False
    print(
        f"web process peak RSS with the cluster: {report['photo_peak_rss_mb']:.0f} MB after "
        f"the photo dreams, {report['peak_rss_mb']:.0f} MB after the videos; by stage: "
        + ", ".join(f"{stage} {mb:.0f} MB" for stage, mb in report["stages"].items())
    )


SIGTERM_PAGE = """
import json, sys, tempfile
from pathlib import Path
sys.path.insert(0, ".")
from bench import harness
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

work = Path(tempfile.mkdtemp(prefix="sigterm-"))
report = {}
with harness.running_server(work, harness.Deadline.after(120)) as server:
    with harness.chromium(work / "profile") as driver:
        wait = WebDriverWait(driver, 120)
        driver.get(server.url)
        photo = wait.until(ec.presence_of_element_located(
            (By.CSS_SELECTOR, ".st-key-upload input[type=file]")))
        photo.send_keys(str(Path("tests/data/astronaut.jpg").resolve()))
        wait.until(ec.element_to_be_clickable((By.XPATH,
            "//button[starts-with(normalize-space(), 'Generate DeepDream Image')]"))).click()
        # A dream streaming from the worker when the host stops the server.
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Octave"))
        report["rc"] = harness.stop_server(server.process, grace=60)
report["log"] = server.log_path.read_text(errors="replace")
print("REPORT " + json.dumps(report))
"""


def test_the_page_on_a_cluster_stops_cleanly_on_sigterm(ray_head):
    """SIGTERM (what a host sends) mid-dream: the server cancels the dream, leaves Ray and
    exits 0, with no native stack dump and no fresh Ray connection on its way out."""
    from conftest import need_browser

    need_browser()
    network, env, _ = ray_head
    done = run_in_network(network, env, SIGTERM_PAGE, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.split("REPORT ", 1)[1])
    log = report["log"]
    assert report["rc"] == 0, log[-3000:]
    assert "SIGTERM received" not in log and "Aborted" not in log, log[-3000:]
    after_stop = log.split("Stopping...", 1)[-1]
    assert "Connecting to existing Ray cluster" not in after_stop, log[-3000:]
