"""One document in, one summary out: HTML to text, splitting (document.py), terms
(words.py), scoring (--method), selection. The options and the answer are options.py's."""

from __future__ import annotations

import math
from typing import Optional, Sequence

from .document import _PARAGRAPH, _units, split_document  # noqa: F401  (this module's API before the split)
from .options import DEFAULT_SENTENCES, SPLITS, Summary, SummaryOptions  # noqa: F401
from .words import _word_caches, document_terms, load_stopwords, sentence_terms  # noqa: F401


# ---------------------------------------------------------------- selection
def summary_size(total: int, options: SummaryOptions) -> Optional[int]:
    """How many sentences to return (None with --words, which is a word budget)."""
    if options.words is not None:
        return None
    if options.ratio is not None:
        return max(1, math.ceil(options.ratio * total - 1e-9)) if total else 0
    return min(total, options.sentences if options.sentences is not None else DEFAULT_SENTENCES)


def _key(sentence: str) -> str:
    return " ".join(sentence.lower().split())


def select(sentences: Sequence[str], order: Sequence[int], options: SummaryOptions,
           groups: Optional[Sequence[int]] = None) -> list[int]:
    """Pick sentences in rank order (exact repeats skipped), return them in document order.

    groups: merged near-identical sentences (long inputs) share a group, and one of a
    group is picked at most; a negative group never excludes another sentence."""
    size = summary_size(len(sentences), options)
    chosen: list[int] = []
    seen: set = set()
    budget = options.words
    used = 0
    for i in order:
        key = _key(sentences[i])
        if key in seen:
            continue
        group = None if groups is None or groups[i] < 0 else ("group", int(groups[i]))
        if group is not None and group in seen:
            continue
        if size is not None:
            if len(chosen) >= size:
                break
        else:
            length = len(sentences[i].split())
            if chosen and used + length > budget:
                continue
            used += length
        seen.add(key)
        if group is not None:
            seen.add(group)
        chosen.append(int(i))
        if size is None and used >= budget:
            break
    return sorted(chosen)


def summarize_sentences(sentences: Sequence[str], options: SummaryOptions = SummaryOptions(),
                        vectors=None) -> Summary:
    """Score pre-split sentences by options.method and pick the best."""
    import numpy as np

    from . import methods, neighbors, textrank

    sentences = list(sentences)
    if not sentences:
        return Summary([], [], [], 0)
    stop = load_stopwords(options.stopwords, options.language)
    if options.method == "lead":
        terms = [()] * len(sentences)  # Lead-k reads only the number of sentences
    else:
        # Word vectors are keyed by words, not stems.
        terms = document_terms(sentences, stop, options.stem and options.similarity != "embedding",
                               options.language)
    params = dict(similarity=options.similarity, damping=options.damping, vectors=vectors,
                  max_neighbors=options.max_neighbors, lexrank_threshold=options.lexrank_threshold,
                  lsa_dimensions=options.lsa_dimensions)
    groups = None
    if options.method != "lead" and len(sentences) > neighbors.SCALE_MIN_SENTENCES:
        # Long inputs: near-identical sentences become one node (exact, see neighbors).
        first, groups, copies = neighbors.merge_duplicates(terms)
        scores = methods.sentence_scores(options.method, [terms[i] for i in first], copies=copies,
                                         **params)[groups]
        groups = np.where(np.asarray([len(t) > 0 for t in terms]), groups, -1)  # no terms: no group
    else:
        scores = methods.sentence_scores(options.method, terms, **params)
    order = textrank.rank_order(scores)
    chosen = select(sentences, order, options, groups)
    summary = Summary([sentences[i] for i in chosen], chosen, [float(scores[i]) for i in chosen], len(sentences))
    if options.keywords:
        summary.keywords = top_keywords(sentences, stop, options.keywords, stem=options.stem,
                                        damping=options.damping, language=options.language)
    return summary


def top_keywords(sentences: Sequence[str], stop: frozenset, top: int, *, stem: bool = True,
                 damping: float = 0.85, language: str = "english") -> list[str]:
    """TextRank keywords over stems, each shown as its most frequent word form ("profits", not "profit")."""
    from collections import Counter

    from . import textrank

    surface = document_terms(sentences, stop, stem=False, language=language)
    stems = document_terms(sentences, stop, stem=stem, language=language)
    forms: dict[str, Counter] = {}
    for words, roots in zip(surface, stems):
        for word, root in zip(words, roots):
            forms.setdefault(root, Counter())[word] += 1
    ranked = textrank.keywords(stems, top, damping=damping)
    # Counter.most_common keeps first-seen order among equal counts: deterministic.
    return [forms[root].most_common(1)[0][0] for root, _ in ranked]


def summarize_text(text: str, options: SummaryOptions = SummaryOptions(), vectors=None,
                   name: Optional[str] = None) -> Summary:
    """Split `text` (HTML reduced to its text, by options.format and the file `name`) and summarize it."""
    from .html import prepare_text

    text = prepare_text(text, options.format, name)
    return summarize_sentences(split_document(text, options.split, options.language), options, vectors)
