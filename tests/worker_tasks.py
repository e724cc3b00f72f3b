"""Task functions the process tests enqueue on a real cluster (importable by the cluster: cwd is the repo)."""

import time
from pathlib import Path


def sleep_then_touch(path: str, seconds: float) -> str:
    time.sleep(seconds)
    Path(path).write_text("done")
    return path
