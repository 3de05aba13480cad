"""Search: BM25 scoring, the index, the sentence-window rerank and the engine that answers."""
