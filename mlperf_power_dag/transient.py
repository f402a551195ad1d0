"""Which fetch failures are worth retrying: the network, not a missing repository."""

from __future__ import annotations

# Words of a FetchError (see download._CAUSES and git's own messages) that mean the remote
# may answer on a later try. "no such repository" or a bad ref never do.
TRANSIENT_MARKERS = (
    "dns;",
    "connection refused or timed out",
    "timed out after",
    "could not resolve host",
    "connection reset",
    "connection timed out",
    "rpc failed",
    "early eof",
    "the requested url returned error: 5",  # HTTP 5xx from the git host
    "temporary failure",
)
RETRY_WAIT_S = 60


def is_transient(message: str) -> bool:
    """True when a fetch error's message says the network, not the request, failed."""
    low = message.lower()
    return any(marker in low for marker in TRANSIENT_MARKERS)
