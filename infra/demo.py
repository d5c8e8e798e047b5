"""`make demo`: the stack, every service, the simulator, then a reconciliation.

Until the services land, it brings the stack up and shows that each server answers.
"""

from __future__ import annotations

import sys

from infra import stack


def main() -> int:
    stack.up([])
    return stack.status([])


if __name__ == "__main__":
    sys.exit(main())
