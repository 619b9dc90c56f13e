"""Errors that popflow reports to users with a clear message."""


class PopflowError(Exception):
    """A problem the user can fix: bad input, bad option, missing setup."""


class InputError(PopflowError):
    """An input file that cannot be read as the source it claims to be.

    The message names the file and, where known, the column and the reason.
    """

    def __init__(self, path, reason: str, column: str | None = None):
        where = f"{path}" + (f", column '{column}'" if column else "")
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.column = column
        self.reason = reason
