"""What readers ask and how the answers did: the question log, votes, and the operator's report."""
