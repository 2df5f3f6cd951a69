"""Library errors carry a user-ready, one-line message and an exit code.

The CLI turns them into `seqtool: error: <message>` and the exit code in one
place (seqtool.cli.app); Python callers catch `SeqtoolError`.
"""


class SeqtoolError(Exception):
    """Base class: a failure the user can act on. Exit code 1."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(SeqtoolError):
    """Bad options or arguments (exit code 2)."""

    exit_code = 2


class InputError(SeqtoolError):
    """Unreadable or malformed input: missing file, bad encoding, binary data..."""


class ModelError(SeqtoolError):
    """A model that is missing, of the wrong kind, corrupted or from another format version."""


class StoreError(SeqtoolError):
    """The model store could not be read or written (locks, disk full, permissions)."""


class OutputError(SeqtoolError):
    """stdout cannot take the data: closed (`>&-`), a full disk (/dev/full), an I/O error."""


class NotBuiltError(SeqtoolError):
    """A command whose feature is not implemented yet."""


class Interrupted(SeqtoolError):
    """Ctrl-C: exit 130 after saving what can be saved."""

    exit_code = 130
