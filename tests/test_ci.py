"""CI's own guarantees: the browser tests never quietly skip where they must run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_ci_script_requires_the_browser_before_running_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "export DEEPDREAM_REQUIRE_BROWSER=1" in script
    assert script.index("export DEEPDREAM_REQUIRE_BROWSER=1") < script.index("python -m pytest")
    assert "python -m pytest" in readme  # the command .ci/run runs is the README's


def test_with_chromium_hidden_the_browser_tests_fail_instead_of_skipping(tmp_path):
    env = {
        **os.environ,
        "DEEPDREAM_REQUIRE_BROWSER": "1",
        "DEEPDREAM_CHROMIUM": str(tmp_path / "no-chromium"),
        "DEEPDREAM_CHROMEDRIVER": str(tmp_path / "no-chromedriver"),
    }
    env.pop("CI", None)  # the guarantee must come from .ci/run's own variable
    shown = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-n", "0",
         "tests/test_browser.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert shown.returncode != 0, shown.stdout[-2000:]
    assert "install chromium and chromium-driver" in shown.stdout
    assert " skipped" not in shown.stdout.splitlines()[-1]
