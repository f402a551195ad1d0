"""`mlperf-power` (and `python -m mlperf_power_dag`): a command a running `mlperf-power serve`
can take goes to it; any other command, or any command when no server takes it, runs here.

This module imports only the standard library before it knows which of the two it is, so a
served command starts in a few hundredths of a second.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

NO_SERVER = "--no-server"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `mlperf-power` command; returns its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    from mlperf_power_dag import server, settings

    asks_help = bool({"-h", "--help"} & set(args))
    if args and args[0] in server.SERVED and NO_SERVER not in args and not asks_help:
        code = server.request(args, settings.home())
        if code is not None:
            return code
    from mlperf_power_dag import cli

    return cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
