"""The semantic stage: the embedding model, the vectors of every passage and sentence, and
the nearest passages to a question."""
