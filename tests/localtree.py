"""A local submission tree made from one real published result folder of the mirror, with its
power trace scaled: the efficiency read from it must be the published one divided by the scale."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = "inference_results_v4.1"
SYSTEM = "closed/UntetherAI/systems/h13_u3_slim.json"
RESULT = "closed/UntetherAI/results/h13_u3_slim/resnet50/offline"


def _show(mirror: Path, path: str) -> bytes:
    git = ["git", "--git-dir", str(mirror / "mlcommons" / f"{REPO}.git")]
    return subprocess.run([*git, "show", f"main:{path}"], capture_output=True, check=True).stdout


def _files(mirror: Path) -> list[str]:
    git = ["git", "--git-dir", str(mirror / "mlcommons" / f"{REPO}.git")]
    out = subprocess.run(
        [*git, "ls-tree", "-r", "--name-only", "main", "--", RESULT],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [SYSTEM, *out.split()]


def scale_watts(trace: bytes, scale: float) -> bytes:
    """`trace` (spl.txt) with the Watts field of every sample multiplied by `scale`."""
    lines = []
    for line in trace.decode().splitlines():
        f = line.split(",")
        if len(f) > 3 and f[0] == "Time" and f[2] == "Watts":
            f[3] = repr(float(f[3]) * scale)
        lines.append(",".join(f))
    return ("\n".join(lines) + "\n").encode()


def make_local_tree(mirror: Path, dest: Path, scale: float = 1.0) -> Path:
    """`dest` laid out like the results repository, holding one result (power trace x `scale`)."""
    for rel in _files(mirror):
        data = _show(mirror, rel)
        if rel.endswith("/spl.txt") and scale != 1.0:
            data = scale_watts(data, scale)
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(data)
    return dest
