"""`make codec-server`: the Temporal UI's codec endpoint, holding the local stack's key.

    python -m infra.codec_server

`python -m orchestration.codec_server` with the key the stack generated
(``infra.services.codec_environment``); a setting already in the environment wins. The
stack's Temporal UI is started pointing at it (``infra.temporal_server.codec_endpoint``).
"""

from __future__ import annotations

import os
import sys

from infra.services import codec_environment
from orchestration import codec_server


def main() -> int:
    for name, value in codec_environment().items():
        os.environ.setdefault(name, value)
    return codec_server.main()


if __name__ == "__main__":
    sys.exit(main())
