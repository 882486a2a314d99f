"""Why the guest harness could not go on: one exception type, with the serial log's tail.

The harness is an environment-facing edge (QEMU, KVM, a kernel that may not boot); each of
its failures becomes one :class:`HarnessError` whose message says what failed and shows the
last lines the guest printed, so a user sees why without a traceback.
"""

from __future__ import annotations

from ..errors import BalloonError

TAIL_LINES = 20
TAIL_MARK = "last lines of the serial console:"


class HarnessError(BalloonError):
    """QEMU, the guest or the QMP conversation failed; the message says how."""


def with_tail(message: str, log: str, lines: int = TAIL_LINES) -> str:
    """``message`` followed by the last ``lines`` lines of the serial log, if any."""
    tail = [line for line in log.splitlines() if line.strip()][-lines:]
    if not tail:
        return f"{message} (the guest printed nothing)"
    return f"{message}\n{TAIL_MARK}\n" + "\n".join(f"  {t}" for t in tail)
