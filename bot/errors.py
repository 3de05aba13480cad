"""Domain errors: each carries a one-line message saying what is wrong and how to fix it.

The command line turns them into that line on stderr and exit code 2; nobody sees a traceback.
"""


class NewsbotError(Exception):
    """Base class for errors that are reported to the operator as one line."""


class ConfigError(NewsbotError):
    """A setting is missing or malformed (token, port, path)."""


class KnowledgeError(NewsbotError):
    """The knowledge folder is missing, empty or holds no readable article."""


class IndexFileError(NewsbotError):
    """A saved index is unreadable or belongs to another version."""
