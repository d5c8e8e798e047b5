"""Prepare DAGSTER_HOME: `python -m batch.instance` before `dagster dev -m batch.definitions`.

Dagster sends telemetry unless DAGSTER_DISABLE_TELEMETRY is set or dagster.yaml says
otherwise; the file makes the choice stick for anyone who forgets the variable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from batch.settings import default_state_dir

INSTANCE_YAML = "telemetry:\n  enabled: false\n"


def ensure_dagster_home(home: Path | None = None) -> Path:
    """Create DAGSTER_HOME (default .stack/dagster) with a telemetry-off dagster.yaml."""
    home = home or Path(os.environ.get("DAGSTER_HOME", default_state_dir() / "dagster"))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML)
    return home


if __name__ == "__main__":
    print(f"DAGSTER_HOME={ensure_dagster_home()}")
    sys.exit(0)
