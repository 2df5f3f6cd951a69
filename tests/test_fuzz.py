"""Fuzz targets: readers, tokenizers, vocab JSON, ARPA, vector files and JSONL
inputs. Whatever the bytes, the result is data or a one-line SeqtoolError naming
the input, never another exception."""

import gzip
import json

import pytest
from hypothesis import example, given
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


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["id", "text", "label", "x"]), c, max_size=3),
                           max_leaves=8)
arpa_lines = st.lists(st.one_of(
    st.sampled_from(["\\data\\", "ngram 1=3", "ngram 2=2", "ngram 1=1000000000000", "", "\\1-grams:", "\\2-grams:",
                     "\\end\\", "-1.0\t<s>\t-0.3", "-0.5\ta\t-0.2", "-0.7\t</s>", "-0.2\t<s> a", "-0.3\ta </s>"]),
    st.text(alphabet="-0123456789.\t <>/abs", max_size=20)), max_size=25)


@fuzz_settings
@given(lines=arpa_lines, gz=st.booleans())
def test_arpa_reader_never_crashes(tmp_path_factory, lines, gz):
    from seqtool.ngram import read_arpa

    path = tmp_path_factory.mktemp("fz") / "model.arpa"
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    try:
        model = read_arpa(path)
    except SeqtoolError as exc:
        assert_clean_error(exc, str(path))
    else:
        assert model.order >= 1


@fuzz_settings
@given(head=st.sampled_from([b"", b"3 2\n", b"2 3\n", b"1 1\n"]),
       body=st.lists(st.one_of(st.binary(max_size=30),
                               st.text(alphabet="abc 0123456789.-e", max_size=30).map(str.encode)), max_size=8))
@example(head=b"1 1\n", body=[b"\x00", b"", b" \x00", b"\x00\x00"])  # regression: IndexError in _dedupe
def test_vector_file_reader_never_crashes(tmp_path_factory, head, body):
    from seqtool.vectors import load_vectors

    path = tmp_path_factory.mktemp("fz") / "vectors.txt"
    path.write_bytes(head + b"\n".join(body))
    try:
        vectors = load_vectors(str(path))
    except SeqtoolError as exc:
        assert_clean_error(exc, str(path))
    else:
        assert vectors.matrix.shape == (len(vectors.words), vectors.dim)


@fuzz_settings
@given(records=st.lists(json_values, max_size=6), garbage=st.booleans())
def test_jsonl_inputs_never_crash(tmp_path_factory, records, garbage):
    from seqtool.classify.data import ReadOptions, read_dataset
    from seqtool.summarize.jsonl import _records
    from seqtool.core.io import Source

    path = tmp_path_factory.mktemp("fz") / "data.jsonl"
    text = "\n".join(json.dumps(r) for r in records) + ("\n{not json" if garbage else "")
    path.write_text(text)
    for where, rid, body, error in _records([Source(str(path))], "utf-8", "strict"):
        assert (error is None) == isinstance(body, str)
        if error:
            assert str(path) in error and "\n" not in error
    try:
        read_dataset(str(path), ReadOptions(format="jsonl"))
    except SeqtoolError as exc:
        assert_clean_error(exc, str(path))


@fuzz_settings
@given(items=st.lists(json_values | st.text(max_size=30), max_size=8), digest_gz=st.booleans())
def test_json_record_reader_and_digest_never_crash(tmp_path_factory, items, digest_gz):
    """core.io.iter_json_records: every non-blank line is a record or an error naming FILE:LINE;
    the Digest read alongside equals the file's sha256."""
    import hashlib

    from seqtool.core.io import Digest, iter_json_records

    path = tmp_path_factory.mktemp("fz") / "records.jsonl"
    lines = [item if isinstance(item, str) else json.dumps(item) for item in items]
    data = "\n".join(lines).encode()
    path.write_bytes(gzip.compress(data) if digest_gz else data)
    digest = Digest()
    source = Source(str(path))
    try:
        from seqtool.core.io import iter_source_lines as _lines

        list(_lines(source, digest=digest))
        records = list(iter_json_records([source]))
    except SeqtoolError as exc:
        assert_clean_error(exc, str(path))
        return
    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(records) == sum(1 for line in "\n".join(lines).split("\n") if line.strip())
    for record in records:
        if record.error is None:
            assert isinstance(record.data, dict) and isinstance(record.text, str)
        else:
            assert record.error.startswith(f"{path}:{record.lineno}: ") and "\n" not in record.error
