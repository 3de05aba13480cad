"""The lexical stage: BM25 over an inverted index of analysed terms, and the sentence-window
reranker of its top."""
