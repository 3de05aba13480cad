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


class EmptyArticle(KnowledgeError):
    """An article file holds no text: nothing after its metadata, or (`page`) an HTML page
    without article text."""

    def __init__(self, name: str, page: bool = False) -> None:
        self.name, self.page = name, page
        super().__init__(f"{name}: no article text in the page" if page
                         else f"{name}: no text after the metadata")


class DictionaryError(NewsbotError, ValueError):
    """The English–German dictionary files are missing or cannot be parsed (the bot then
    matches English questions by their names only)."""


class FetchError(NewsbotError):
    """A download (feed or article page) failed; the message is one line saying why."""
