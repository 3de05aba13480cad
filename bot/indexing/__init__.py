"""Indexing: building the engine from articles (`build`), the saved index (`storage`), and
settings → engine at start-up (`loading`)."""
