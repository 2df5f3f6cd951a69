"""Fuzz targets for the shared core: whatever the bytes, the result is data or a
one-line SeqtoolError naming the input — never another exception."""

import gzip
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqtool.core.errors import SeqtoolError
from seqtool.core.io import Source, iter_source_lines
from seqtool.core.text import Tokenizer, split_sentences
from seqtool.core.vocab import Vocab

from .fuzzing import fuzz_settings

pytestmark = pytest.mark.fuzz


def assert_clean_error(exc: SeqtoolError, name: str) -> None:
    message = str(exc)
    assert message and "\n" not in message and name in message


@fuzz_settings
@given(blob=st.binary(max_size=2000), gz=st.booleans(), cut=st.integers(0, 50))
def test_reader_never_crashes(tmp_path_factory, blob, gz, cut):
    path = tmp_path_factory.mktemp("fz") / "input.txt"
    data = gzip.compress(blob) if gz else blob
    path.write_bytes(data[: max(0, len(data) - cut)] if gz else data)
    try:
        for line in iter_source_lines(Source(str(path)), max_line_bytes=512):
            assert "\n" not in line
    except SeqtoolError as exc:
        assert_clean_error(exc, str(path))


@fuzz_settings
@given(text=st.text(max_size=500), level=st.sampled_from(["word", "char"]),
       method=st.sampled_from(["whitespace", "treebank", "regex"]), lower=st.booleans())
def test_tokenizers_never_crash(text, level, method, lower):
    tokens = Tokenizer(level=level, method=method, lower=lower)(text)
    assert all(isinstance(t, str) and t for t in tokens)


@fuzz_settings
@given(text=st.text(max_size=500))
def test_sentence_splitter_never_crashes(text):
    assert all(s.strip() == s and s for s in split_sentences(text))


@fuzz_settings
@given(doc=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                        max_leaves=20),
       base=st.booleans())
def test_vocab_loader_rejects_garbage_cleanly(doc, base):
    if base and isinstance(doc, dict):
        doc = {"format": "seqtool-vocab", "version": 1, **doc}
    try:
        Vocab.loads(json.dumps(doc), origin="fuzz-vocab")
    except SeqtoolError as exc:
        assert_clean_error(exc, "fuzz-vocab")
