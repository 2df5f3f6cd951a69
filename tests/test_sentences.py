"""The fast sentence splitter (seqtool.summarize.sentences) against the whole of Punkt.

split_paragraph decides most candidates itself (after closing quotes and brackets,
? and !, ellipses, rejected candidates, a paragraph's closing mark); every answer
must be Punkt's, byte for byte, so each test compares with PunktSentenceTokenizer
on the same whitespace-normalised paragraph."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.summarize.sentences import split_paragraph, tokenizer


def _punkt(paragraph: str) -> list[str]:
    import punkt

    reference = punkt.PunktSentenceTokenizer(punkt.load_model("english"))
    text = " ".join(paragraph.split())
    return [s.strip() for s in reference.tokenize(text) if s.strip()]


# Abbreviations, initials, collocation halves, numbers, plain and capitalised words.
WORDS = ["Mr", "Dr", "U.S", "Inc", "J", "etc", "No", "5", "2004", "$1.5bn", "47.3%", "p.m", "e.g", "St",
         "Jan", "Co", "Ph.D", "III", "word", "said", "it", "The", "the", "He", "However", "Smith", "BBC's",
         "UK-based", "£5m", "10", "i", "A", "x", "it’s", "rock'n'roll", "a,b", "--", "_", "Yeah"]
OPENERS = ["", "", "", '"', "(", "'", "[", "‘", "“", "«", '("']
MARKS = ["", "", ".", ".", ".", "?", "!", "...", "..", "?!", "!!", ",", ";", ":", ". . .", ".?"]
CLOSERS = ["", "", "", '"', ")", "'", "”", "’", '")', "]", "»", "}", ".)", '."']
GAPS = [" ", " ", " ", "  ", "\n", " -- ", " . . . ", ". "]


@st.composite
def paragraphs(draw):
    parts = []
    for _ in range(draw(st.integers(1, 14))):
        parts.append(draw(st.sampled_from(OPENERS)) + draw(st.sampled_from(WORDS))
                     + draw(st.sampled_from(MARKS)) + draw(st.sampled_from(CLOSERS)))
        parts.append(draw(st.sampled_from(GAPS)))
    return "".join(parts[:-1] if draw(st.booleans()) else parts)


@settings(max_examples=600, deadline=None)
@given(paragraphs())
def test_fast_splitter_is_punkt_on_quotes_brackets_marks_and_ellipses(paragraph):
    assert split_paragraph(paragraph) == _punkt(paragraph)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aZ09 .?!\"')]}(“”’«»-,%$J")), max_size=60))
def test_fast_splitter_is_punkt_on_character_soup(paragraph):
    assert split_paragraph(paragraph) == _punkt(paragraph)


def test_known_answers_after_quotes_brackets_and_marks():
    cases = {
        'He said "it is over." Then he left.': ['He said "it is over."', "Then he left."],
        "It rose (by 5%.) Shares fell.": ["It rose (by 5%.)", "Shares fell."],
        'Why? he asked. "Why not?" She smiled!) Yes': ["Why?", "he asked.", '"Why not?"', "She smiled!)", "Yes"],
        "It was a blast... I predict more. Wait... what?": ["It was a blast...", "I predict more.",
                                                            "Wait... what?"],
        # Punkt's context for "Dr." runs to the next space, 'Jones."': its break after
        # "Jones." followed by '"' counts, so Punkt breaks after "Dr." too.
        'Mr. Smith met Dr. Jones." He said.': ["Mr. Smith met Dr.", 'Jones."', "He said."],
        'It was Mr." He left.': ['It was Mr." He left.'],
        "In May 2003. with both parties.": ["In May 2003. with both parties."],
    }
    for text, want in cases.items():
        assert split_paragraph(text) == want == _punkt(text), text


def test_word_breaks_follows_the_model():
    from seqtool.summarize.sentences import word_breaks

    tok = tokenizer("english")
    assert word_breaks(tok, "said") and word_breaks(tok, "2004bn")
    # an abbreviation, an initial, a number, two tokens: the context decides
    assert not any(word_breaks(tok, w) for w in ("Mr", "J", "2004", "it’s", "(he"))
