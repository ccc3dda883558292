"""The kit's errors: each one carries what a user needs to fix the problem.

Every error a user can cause derives from ReviewError; the command line prints
its message on one line and exits non-zero, without a traceback.
"""

from __future__ import annotations


class ReviewError(Exception):
    """A problem the user can fix; the message says what is wrong and what to do."""

    exit_code = 1


class ConfigError(ReviewError):
    """The configuration file has an unknown key, a wrong value or bad TOML."""

    def __init__(self, message: str, path: str | None = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{message}")


class FileLineError(ReviewError):
    """A mistake at a place in a file: the message starts with file:line."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        super().__init__(f"{where}{message}")


class SnapshotError(FileLineError):
    """A snapshot is missing, corrupt or inconsistent; names the file and line."""


class ScenarioError(ReviewError):
    """A scenario file describes an impossible or malformed incident."""

    def __init__(self, message: str, file: str | None = None, incident: str | None = None) -> None:
        self.file = file
        self.incident = incident
        parts = [p for p in (file, f"incident {incident!r}" if incident else None) if p]
        super().__init__(f"{': '.join(parts)}: {message}" if parts else message)


class TicketError(ReviewError):
    """Something about one ticket prevents an analysis; carries the ticket id."""

    def __init__(self, message: str, ticket_id: int) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"ticket {ticket_id}: {message}")


class RegistryError(FileLineError):
    """The service registry file has a mistake; names the file, the line and the fix."""


class RTError(ReviewError):
    """RT refused or failed a request; names the server (never the credentials) and what to do."""


class RTAuthError(RTError):
    """RT rejected the credentials, or the account lacks a right the pull needs."""


class RTUnreachable(RTError):
    """RT did not answer (down, wrong address, timeouts) even after the retries."""


def not_utf8(data: bytes, exc: UnicodeDecodeError) -> tuple[int, str]:
    """Where a text file that is not UTF-8 first goes wrong (its line) and the fix."""
    line = data.count(b"\n", 0, exc.start) + 1
    return line, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"


class Interrupted(ReviewError):
    """Ctrl-C or SIGTERM stopped a command after it cleaned up (exit status 130)."""

    exit_code = 130
