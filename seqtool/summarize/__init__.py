"""Extractive summaries by TextRank: one document (core), folders (batch),
JSON lines (jsonl) and ROUGE evaluation (evaluate)."""

from .pipeline import (DEFAULT_SENTENCES, SPLITS, Summary, SummaryOptions, load_stopwords, sentence_terms,
                   split_document, summarize_sentences, summarize_text)

__all__ = ["DEFAULT_SENTENCES", "SPLITS", "Summary", "SummaryOptions", "load_stopwords", "sentence_terms",
           "split_document", "summarize_sentences", "summarize_text"]
