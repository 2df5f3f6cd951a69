"""Punkt sentence splitting, same output, several times faster.

Punkt (the `punkt` package behind seqtool.core.text.split_sentences) pays a
per-call set-up of ~20 us (a backtracking regex over the whole text) and
~15 us per candidate boundary, whose context it word-tokenizes and annotates
in Python. Three shortcuts, all exact:

* A word that is one token of Punkt's word tokenizer and neither an
  abbreviation, an initial, a number nor the first of a collocation breaks
  before whatever follows (word_breaks); "?" and "!" always break.
* FastPunkt answers the next commonest context, "token. Word", directly:
  under every rule Punkt has it is a break unless the token is a known
  abbreviation or the pair a known collocation; everything else goes to
  Punkt's own code, once per distinct context.
* split_paragraph cuts a paragraph at its decidable candidates (see
  _candidates: after a plain word, before a space and a token, closing
  quotes and brackets between), and runs the whole of Punkt only on the
  pieces that still hold a candidate it could not decide.

Checked equal to Punkt on 184,443 paragraphs and layout units (BBC News
Summary, Tiny Shakespeare, PTB, MR, TREC, SST-2, the bundled corpora) and by
hypothesis tests of random abbreviation/number/quote/bracket/?!/ellipsis soup
in tests/test_sentences.py.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..core.errors import UsageError

# The whole candidate context: preceding token P, the period, one space, the
# next word. P holds none of the characters Punkt's word tokenizer splits at
# (quotes, brackets, ?!;:*@ and the like; no leading hyphen, comma or &), so
# "P." stays one token. The next word may open a quote or carry a comma: the
# tokenizer splits both off, so the token after the period is '"' or the word.
_OBVIOUS = re.compile(r"([^\s?!)\";}\]*:@'({\[`&#,\-‘’“”«»]"
                      r"[^\s?!)\";}\]*:@'({\[`‘’“”«»]*)\. (\"?)([A-Z][A-Za-z]*),?")


@lru_cache(maxsize=8)
def tokenizer(language: str = "english"):
    import punkt
    from punkt.rules.tokens import PunktToken

    class FastPunkt(punkt.PunktSentenceTokenizer):
        __slots__ = ()

        def _context_has_sentbreak(self, context: str) -> bool:
            m = _OBVIOUS.fullmatch(context)
            if m is not None and "--" not in m[1] and not m[1].endswith("."):
                token = PunktToken(m[1] + ".")
                params = self.params
                # First pass: a period-final token that is no abbreviation (nor an
                # ellipsis) is a break. Second pass, with a capitalised word next:
                # only a known collocation undoes it; initials go to Punkt, and a
                # number keeps its break (the orthographic test can only say "no"
                # to a lower-case word).
                after = m[2] or m[3].lower()
                if (not token.is_initial and not params.is_abbrev(m[1])
                        and (token.type_no_period, after) not in params.collocations):
                    return True
            return super()._context_has_sentbreak(context)

    try:
        return FastPunkt(punkt.load_model(language))
    except Exception as exc:  # the package raises its own error types
        raise UsageError(f"no offline sentence model for language {language!r} ({exc})") from None


# Every place Punkt could break (a superset: Punkt needs . ? ! followed by
# whitespace or one of a few punctuation marks, never by a letter or digit).
_ANY_END = re.compile(r"[.?!](?!\w)")
# Closing quotes and brackets: the characters both of Punkt's word tokenizer's
# non-word class and of its realignment pattern, so a run of them right after
# a break is the whole of that candidate's after-token (its first character)
# and moves back onto the sentence it closes.
_CLOSERS = "\"')]}\u2019\u201d\u00ab\u00bb"
# A decidable candidate in whitespace-normalised text: a word P (no possible
# break inside it, ending in a letter, digit or %), . ? or !, closers, one
# space and the next token N, which starts with neither a possible end nor a
# closer (a closer then a letter or digit is fine: realignment needs a space
# or "--" after its closers, and an opening quote before a word is the
# commonest N after a break).
_CANDIDATE = re.compile(r"[.?!]([" + re.escape(_CLOSERS) + r"]*) (?=[^\s.?!" + re.escape(_CLOSERS)
                        + r"]|[" + re.escape(_CLOSERS) + r"][^\W_])")
_P_END = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789%" + _CLOSERS)


def _candidates(text: str):
    """(punctuation index, P, closers, end of N) for each decidable candidate.

    Punkt's context for it is P, the mark, then its after-token: the first
    closer when there are closers (the lookahead's non-word branch wins),
    else the space and N (text[index + 2:end of N])."""
    for m in _CANDIDATE.finditer(text):
        i = m.start()
        p = text[text.rfind(" ", 0, i) + 1:i]
        # An ellipsis's periods before the last are inside a run: no candidates.
        core = p.rstrip(".") if text[i] == "." else p
        if not core or core[-1] not in _P_END or _ANY_END.search(core) is not None:
            continue
        closers = m[1]
        stop = -1 if closers else text.find(" ", i + 2)
        yield i, p, closers, len(text) if stop < 0 else stop


# A paragraph's closing mark and closers: break or not, Punkt gives the same sentence
# (realignment moves a closers-only last span back onto the one before).
_TRAILING = re.compile(r"[.?!][" + re.escape(_CLOSERS) + r"]+$")

# Punkt decides a candidate from its context string alone (its model is fixed per
# language), so a batch asks once per distinct context, and once per distinct word
# whether that word breaks before anything: asking costs more than splitting the rest.
_DECISIONS_MAX = 200_000
_decision_caches: dict = {}  # language -> {context: is a break}
_word_caches: dict = {}  # language -> {word before a period: breaks whatever follows}


def word_breaks(tok, word: str) -> bool:
    """Whether Punkt breaks after `word` + "." before any token at all.

    The first pass marks a period-final token that is no abbreviation a break;
    the second pass takes it back only for a collocation, an abbreviation
    before a number, an initial or a number (sections 4.1.2 and 4.3); and a
    context with a break and a token after it is a break. So a word that stays
    one token breaks unless it is one of those."""
    token = word + "."
    if tok._words.tokenize(token) != [token]:
        return False
    from punkt.rules.tokens import NUMBER_TYPE, PunktToken

    punkt_token = PunktToken(token)
    params = tok.params
    kind = punkt_token.type_no_period
    firsts = _collocation_firsts(tok)
    return not (params.is_abbrev(word) or punkt_token.is_initial or kind == NUMBER_TYPE
                or kind in firsts or params.is_numeric_abbrev(kind))


@lru_cache(maxsize=8)
def _collocation_firsts(tok) -> frozenset:
    return frozenset(first for first, _ in tok.params.collocations)


def split_paragraph(paragraph: str, language: str = "english") -> list[str]:
    """Sentences of one paragraph (line breaks are spaces), exactly as Punkt splits it.

    The paragraph is first cut at its decidable candidates that Punkt's own
    classifier accepts; only pieces that still hold a candidate it could not
    decide go through the whole of Punkt (its per-call set-up costs more than
    the classification). This is exact: Punkt decides each candidate from its
    context alone, and a decidable candidate has a space before its word and
    a space after its closers, then a token that is neither an end nor a
    closer, so every other candidate keeps its context and its side of the
    cut, the closers are realigned onto the sentence before (as Punkt's
    realignment does; a piece that goes through Punkt keeps them and
    realigns them itself), and no punctuation-only span forms across the cut.
    A piece whose every candidate was rejected is one sentence.
    """
    paragraph = " ".join(paragraph.split())
    if not paragraph:
        return []
    tok = tokenizer(language)
    decided = _decision_caches.setdefault(language, {})
    words = _word_caches.setdefault(language, {})
    out: list[str] = []
    start = 0
    held: list[int] = []  # candidates since `start` that Punkt's classifier rejects
    for i, p, closers, stop in _candidates(paragraph):
        if paragraph[i] != ".":
            # "?" and "!" are tokens of their own that the first pass marks as breaks and
            # the second pass never revisits; the context holds a token after them.
            brk = True
        else:
            brk = words.get(p)
            if brk is None:
                if len(words) >= _DECISIONS_MAX:
                    words.clear()
                brk = words[p] = word_breaks(tok, p)
            if not brk:
                context = f"{p}.{closers[0]}" if closers else f"{p}{paragraph[i:stop]}"
                brk = decided.get(context)
                if brk is None:
                    if len(decided) >= _DECISIONS_MAX:
                        decided.clear()
                    brk = decided[context] = tok._context_has_sentbreak(context)
        if brk:
            end = i + 1 + len(closers)
            _split_piece(paragraph, start, i, end, held, tok, out)
            start = end + 1
            held = []
        else:
            held.append(i)
    m = _TRAILING.search(paragraph, start) if paragraph[-1] in _CLOSERS else None
    _split_piece(paragraph, start, len(paragraph) - 1 if m is None else m.start(), len(paragraph), held, tok, out)
    return out


def _split_piece(text: str, start: int, last: int, end: int, held: list, tok, out: list[str]) -> None:
    """Sentences of text[start:end], whose possible breaks before `last` (its closing
    mark, or the last character, which nothing follows) are all in `held`: rejected
    candidates, whose contexts are Punkt's own, so the piece is one sentence."""
    for m in _ANY_END.finditer(text, start, last):
        if m.start() not in held:
            out.extend(s.strip() for s in tok.tokenize(text[start:end]) if s.strip())
            return
    out.append(text[start:end])
