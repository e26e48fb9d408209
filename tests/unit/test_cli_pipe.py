"""A reader that has gone (``wirewatch alerts tail | head``) ends the command quietly: no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("feeds", [1, 3000], ids=["output-in-one-buffer", "output-over-many-writes"])
def test_closed_stdout_ends_quietly(tmp_path: Path, feeds: int) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text(
        "".join(f'[[feed]]\nid = "f{i}"\ntype = "rss"\nurl = "https://e.test/{i}.xml"\n' for i in range(feeds))
    )
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes a byte
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "wirewatch.streams.cli", "feeds", "list", "--config", str(config)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    stderr = proc.stderr.decode()
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert proc.returncode == 141
