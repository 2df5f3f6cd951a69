import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.core.errors import UsageError
from seqtool.core.text import Tokenizer, char_tokenize, split_sentences, word_tokenize


def test_sentence_splitter_knows_abbreviations_offline():
    text = "Dr. Smith went to Washington D.C. on Jan. 5. He paid $3.50."
    assert split_sentences(text) == ["Dr. Smith went to Washington D.C. on Jan. 5.", "He paid $3.50."]


def test_sentences_never_cross_paragraphs():
    text = "A first line with no full stop\n\nA second paragraph. It has two sentences."
    assert split_sentences(text) == ["A first line with no full stop", "A second paragraph.", "It has two sentences."]


def test_line_breaks_inside_a_paragraph_are_spaces():
    assert split_sentences("The cat\nsat on the mat.  Then\r\nit slept.") == ["The cat sat on the mat.", "Then it slept."]


def test_empty_text_has_no_sentences():
    assert split_sentences("") == [] and split_sentences("  \n\n \n") == []


def test_treebank_tokenizer():
    assert word_tokenize("He didn't pay $3.50.", "treebank") == ["He", "did", "n't", "pay", "$", "3.50", "."]


def test_whitespace_and_regex_tokenizers_and_lowercasing():
    assert word_tokenize("  The <unk> cat\tsat \n") == ["The", "<unk>", "cat", "sat"]
    assert word_tokenize("Hello, World!", "regex", lower=True) == ["hello", ",", "world", "!"]
    assert word_tokenize("a1-b2 c3", "regex", pattern=r"[a-z]\d") == ["a1", "b2", "c3"]


def test_bad_regex_and_unknown_method_are_usage_errors():
    with pytest.raises(UsageError):
        word_tokenize("x", "regex", pattern="(")
    with pytest.raises(UsageError):
        Tokenizer(method="nope")


def test_tokenizer_round_trips_as_data():
    tok = Tokenizer(level="word", method="regex", lower=True, pattern=r"\w+")
    assert Tokenizer.from_dict(tok.to_dict()) == tok
    assert tok("Hi there") == ["hi", "there"]


@given(st.text())
def test_char_tokenizer_is_lossless(text):
    tokens = char_tokenize(text)
    assert "".join(tokens) == text
    assert Tokenizer(level="char").detokenize(tokens) == text


@given(st.text())
def test_whitespace_tokens_have_no_whitespace_and_keep_all_characters(text):
    tokens = word_tokenize(text)
    assert all(t and not any(c.isspace() for c in t) for t in tokens)
    assert "".join(tokens) == "".join(text.split())


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_sentence_splitter_keeps_every_character(text):
    sentences = split_sentences(text)
    assert "".join("".join(sentences).split()) == "".join(text.split())
    assert all(s == s.strip() and s for s in sentences)
