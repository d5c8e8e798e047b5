"""Who is deciding: the review CLI's caller, never a name typed with the decision.

The OS account is the passwd entry of the process's real uid, not $USER or $LOGNAME (which
whoever runs the command can set to anything, and which getpass.getuser reads first); a uid
without an entry is ``uid:<n>``, still the account. A configured identity
(ORCHESTRATOR_REVIEWER_IDENTITY) is for a caller with no person at a terminal, such as an
automated triage job; the audit row says which of the two it was.
"""

from __future__ import annotations

import os
import pwd
import socket
from collections.abc import Callable
from dataclasses import dataclass

from orchestration.review_rules import check_reviewer


@dataclass(frozen=True, slots=True)
class Reviewer:
    name: str
    source: str  # contracts.workflows.IDENTITY_SOURCES: os_user or configured
    os_user: str  # the OS account either way, for the Temporal client's identity


def os_account(uid: int | None = None,
               lookup: Callable[[int], pwd.struct_passwd] = pwd.getpwuid) -> str:
    """The name of the real uid's account (``uid:<n>`` when it has no passwd entry)."""
    uid = os.getuid() if uid is None else uid
    try:
        return lookup(uid).pw_name
    except KeyError:
        return f"uid:{uid}"


def resolve_reviewer(configured: str | None, os_user: str | None = None) -> Reviewer:
    """The configured identity when there is one, else the OS account; checked either way."""
    account = os_account() if os_user is None else os_user
    if configured is not None:
        return Reviewer(check_reviewer(configured), "configured", account)
    return Reviewer(check_reviewer(account), "os_user", account)


def client_identity(reviewer: Reviewer) -> str:
    """What the Temporal client calls itself, so the update in the history names the caller."""
    return (f"orchestration.review reviewer={reviewer.name} ({reviewer.source}) "
            f"os_user={reviewer.os_user} pid={os.getpid()}@{socket.gethostname()}")
