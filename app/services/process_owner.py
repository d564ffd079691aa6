"""Which process is doing a background job, so a page can tell at once that a job whose
process died (killed, server restarted) will never finish.

A job records its owner (host name and pid) when it starts. On the same host, a pid
that no longer exists proves the job is dead; on another host we cannot tell, and the
caller falls back to its time-based staleness rule. A reused pid can only make us wait
for that fallback, never call a live job dead.
"""

from __future__ import annotations

import os
import socket


def current_owner() -> dict[str, object]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def owner_is_gone(owner: dict | None) -> bool:
    """True when `owner` ran on this host and its process no longer exists."""
    if not owner or owner.get("host") != socket.gethostname():
        return False
    try:
        pid = int(owner["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    return not pid_alive(pid)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True
