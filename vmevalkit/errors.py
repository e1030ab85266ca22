"""Errors a user can cause and fix; the CLI prints them without a traceback."""


class UserError(Exception):
    """A problem with the user's input or setup; the message says what is wrong and how to fix it."""


class QuestionError(UserError):
    """A question folder is unreadable or invalid; names the file."""


class WeightsMissingError(UserError):
    """A model's weights are not on disk; the message gives the command that fetches them."""


class CheckpointError(UserError):
    """A checkpoint file is missing, truncated, unsafe, or does not match the model."""


class JSONFileError(UserError):
    """A JSON file cannot be read, is not UTF-8, is not JSON, or holds no JSON object; names the file."""


class InvalidArgumentError(UserError, ValueError):
    """An argument value a function cannot use; the message names it and says which values are allowed."""


class StorageError(UserError, OSError):
    """A file could not be written (no space left, a read-only or vanished folder). An OSError too, with the
    errno of the cause, so callers can tell a full disk from the rest; the message names the file and the fix."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()
