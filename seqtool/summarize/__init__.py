"""Extractive summaries: one document (pipeline: options, document splitting, words),
folders (batch: inputs, outdir, commit), JSON lines
(jsonl) and ROUGE evaluation (evaluate), all called through api.

Sentences are scored by SummaryOptions.method (`--method`): textrank (the
default, textrank.py), lexrank, lsa or lead (methods.py); sumy's
LexRankSummarizer is `seqtool summarize --method lexrank`, LsaSummarizer
`--method lsa`, TextRankSummarizer `--method textrank`. HTML is reduced to its
text first (html.py, `--format auto|text|html`: `seqtool summarize page.html`),
and `--language` (languages.py: `seqtool summarize a.txt --language de`) picks
the sentence splitter, stop words and stemmer.
"""

from .document import split_document
from .options import DEFAULT_SENTENCES, SPLITS, Summary, SummaryOptions
from .pipeline import summarize_sentences, summarize_text
from .words import load_stopwords, sentence_terms

__all__ = ["DEFAULT_SENTENCES", "SPLITS", "Summary", "SummaryOptions", "load_stopwords", "sentence_terms",
           "split_document", "summarize_sentences", "summarize_text"]
