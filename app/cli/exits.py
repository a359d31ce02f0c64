"""The exit codes every `backaudit` command uses (the same for each group of commands)."""

from __future__ import annotations

from typing import Final

EXIT_OK: Final = 0
EXIT_PROBLEM: Final = 2  # a problem the user can fix, said in one line on stderr
EXIT_USAGE: Final = 2  # no command given: the help is printed
EXIT_BROKEN_PIPE: Final = 128 + 13  # what a shell reports for a command stopped by SIGPIPE
EXIT_INTERRUPTED: Final = 128 + 2  # stopped with Ctrl+C (SIGINT), as a shell reports it
