"""newsbot: answers questions about the news with the passage that says so."""

__version__ = "0.1.0"
