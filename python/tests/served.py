"""`strobe serve` as a child process for the server's tests (test_server_openai.py,
test_web_page.py): started on a free loopback port, its address read from its first line."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180.0  # a debug build loading the model on a busy machine


def strobe_path() -> Path:
    """The binary to test: $STROBE_BIN, else the debug build."""
    return Path(os.environ.get("STROBE_BIN") or REPO / ".build" / "debug" / "strobe")


class ServedStrobe:
    """A `strobe serve --port 0 ARGS…` child process; `base` is `http://127.0.0.1:PORT`."""

    LINE = re.compile(r"^strobe serve: (\S+) at http://127\.0\.0\.1:(\d+)/")

    def __init__(self, *args: str, binary: Path | None = None):
        env = {k: v for k, v in os.environ.items() if k != "STROBE_API_KEY"}
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [str(binary or strobe_path()), "serve", "--port", "0", "--log-level", "warning", *args],
            stdout=subprocess.PIPE, stderr=self.log, env=env, cwd=REPO)
        first: list[str] = []
        reader = threading.Thread(target=lambda: first.append(self.proc.stdout.readline().decode()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        match = self.LINE.match(first[0]) if first else None
        if not match:
            self.stop()
            raise RuntimeError(f"strobe serve did not start: stdout {first!r}, stderr {self.stderr()[-2000:]!r}")
        self.model, self.port = match.group(1), int(match.group(2))
        self.base = f"http://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        """SIGTERM (the server drains), then SIGKILL after 30 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
