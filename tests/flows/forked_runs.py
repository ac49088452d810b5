"""Start `recoup` commands as forks of one process that has already imported recoup, Prefect, GX
and matplotlib (run as a script: ``python tests/flows/forked_runs.py``).

Why: a `recoup run` on a tiny inbox spends about two thirds of its CPU time importing (Prefect
2 s, GX 5.5 s, STACK.md). The interruption test needs 40 runs; forking from a warm process makes
each one a real, separate OS process running the whole command (``flows.cli.main``: argument
parsing, Prefect flow, tasks, exit code) that can be SIGKILLed, without paying the imports again.
Importing runs no recoup code path that a command would otherwise run differently: Prefect's
settings are in the environment before Prefect is imported, as ``recoup`` itself arranges.

Protocol, one line each: the test writes ``{"argv": [...], "output": PATH}`` (JSON) on standard
input; this process forks, the child starts a new session (so the test can see anything it leaves
behind), writes its standard output and error to PATH and runs the command; the parent answers
``started PID`` and, once the child has ended (exited or killed), ``ended PID CODE`` (CODE as
``subprocess`` reports it: negative for a signal).
"""

from __future__ import annotations

import json
import os
import sys


def _warm() -> None:
    from flows import settings

    settings.prepare_prefect()  # before Prefect is imported, as every recoup command does
    import great_expectations  # noqa: F401
    import matplotlib.figure  # noqa: F401
    import prefect  # noqa: F401

    import expectations.suites  # noqa: F401
    import flows.cli
    import flows.nightly  # noqa: F401  (Prefect)
    import reporting.charts
    import reporting.html  # noqa: F401


def _child(argv: list[str], output: str) -> None:
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    out = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    code = 1
    try:
        from flows.cli import main

        code = main(argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    _warm()
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request["argv"], request["output"])
        print(f"started {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"ended {pid} {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    serve()
