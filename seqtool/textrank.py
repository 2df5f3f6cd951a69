"""Moved to seqtool.summarize.textrank; this name keeps imports written for 0.1 working."""

import warnings

from .summarize.textrank import (DEFAULT_SIMILARITY, SIMILARITIES, keywords, pagerank,  # noqa: F401
                                 rank_order, sentence_vectors, similarity_graph, term_matrix,
                                 textrank_scores)

warnings.warn("seqtool.textrank moved to seqtool.summarize.textrank", DeprecationWarning, stacklevel=2)
