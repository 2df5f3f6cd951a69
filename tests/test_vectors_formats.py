"""Vector file formats: round trips, detection, errors, the store layout."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.core.errors import InputError
from seqtool.vectors import Vectors, load_vectors
from seqtool.vectors.formats import detect_format, read_vectors, write_vectors
from seqtool.vectors.api import import_vectors
from seqtool.vectors.store import open_stored, save_vectors

gensim_data = pytest.importorskip("gensim.test.utils").datapath

CASES = [("word2vec", False, "word2vec-text"), ("word2vec", True, "word2vec-binary"), ("glove", False, "glove")]


def _sample(n: int = 50, dim: int = 7, seed: int = 0) -> Vectors:
    rng = np.random.default_rng(seed)
    matrix = (rng.standard_normal((n, dim)) * 10.0 ** rng.integers(-6, 4, (n, dim))).astype(np.float32)
    matrix[0, 0] = 0.418  # a typical GloVe-file value, exact at 7 digits
    words = [f"w{i}" for i in range(n - 3)] + ["héllo", "日本", "N"]
    return Vectors(words, matrix)


def _write(vecs: Vectors, path, fmt: str, binary: bool) -> None:
    with open(path, "wb") as fh:
        write_vectors(vecs, fh, fmt, binary=binary)


@pytest.mark.parametrize("fmt,binary,detected", CASES)
def test_round_trip_is_exact_and_detected(tmp_path, fmt, binary, detected):
    vecs = _sample()
    path = tmp_path / "v.out"
    _write(vecs, path, fmt, binary)
    assert detect_format(str(path))[0] == detected
    back = load_vectors(str(path))
    assert back.words == vecs.words
    assert np.array_equal(back.matrix, vecs.matrix)
    assert back.matrix.dtype == np.float32
    head = load_vectors(str(path), limit=5)
    assert head.words == vecs.words[:5] and np.array_equal(head.matrix, vecs.matrix[:5])


@pytest.mark.parametrize("fmt,binary,detected", CASES)
def test_gzip_files_are_read(tmp_path, fmt, binary, detected):
    vecs = _sample(20, 3)
    buf = io.BytesIO()
    write_vectors(vecs, buf, fmt, binary=binary)
    path = tmp_path / "v.gz"
    path.write_bytes(gzip.compress(buf.getvalue()))
    assert detect_format(str(path))[0] == detected
    assert np.array_equal(load_vectors(str(path)).matrix, vecs.matrix)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=6, max_size=6),
       st.sampled_from(CASES))
def test_any_float32_survives_text_and_binary(values, case):
    fmt, binary, _ = case
    vecs = Vectors(["a", "b", "c"], np.array(values, dtype=np.float32).reshape(3, 2))
    buf = io.BytesIO()
    write_vectors(vecs, buf, fmt, binary=binary)
    import tempfile, os

    with tempfile.NamedTemporaryFile(delete=False) as fh:
        fh.write(buf.getvalue())
    try:
        back = read_vectors(fh.name)
    finally:
        os.unlink(fh.name)
    assert np.array_equal(back.matrix, vecs.matrix)


def test_gensim_reads_what_we_write_and_we_read_gensim_files(tmp_path):
    from gensim.models import KeyedVectors

    vecs = _sample()
    for fmt, binary, _ in CASES:
        path = tmp_path / f"{fmt}{binary}"
        _write(vecs, path, fmt, binary)
        kv = KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=fmt == "glove")
        assert kv.index_to_key == vecs.words and np.array_equal(kv.vectors, vecs.matrix)
    for name, binary in (("euclidean_vectors.bin", True), ("lee_fasttext.vec", False)):
        kv = KeyedVectors.load_word2vec_format(gensim_data(name), binary=binary)
        ours = load_vectors(gensim_data(name))
        assert ours.words == kv.index_to_key and np.array_equal(ours.matrix, kv.vectors)


def test_glove_file_whose_first_line_looks_like_a_header(tmp_path):
    # "3 1" could be "3 words of dimension 1" -- but 5 rows follow, so it is GloVe row "3".
    path = tmp_path / "g.txt"
    path.write_text("3 1\nthe 0.5\nof -0.25\nand 2\nto 4\n")
    fmt, count, dim = detect_format(str(path))
    assert (fmt, count, dim) == ("glove", None, 1)
    vecs = load_vectors(str(path))
    assert vecs.words == ["3", "the", "of", "and", "to"]
    assert vecs.matrix[:, 0].tolist() == [1.0, 0.5, -0.25, 2.0, 4.0]
    # A numeric first word with more dimensions is never a header either.
    path.write_text("1 2 3\n2 4 5\n")
    assert detect_format(str(path))[:2] == ("glove", None)
    assert load_vectors(str(path)).words == ["1", "2"]
    # ... while a real header with the right row count is one.
    path.write_text("2 1\nthe 0.5\nof -0.25\n")
    assert detect_format(str(path)) == ("word2vec-text", 2, 1)


def test_text_details_words_with_spaces_trailing_spaces_crlf_and_duplicates(tmp_path, capsys):
    path = tmp_path / "g.txt"
    path.write_bytes(b"the 1 2 \r\n. . . 3 4\r\n\r\nthe 5 6\n")
    vecs = load_vectors(str(path))
    assert vecs.words == ["the", ". . ."]
    assert vecs.matrix.tolist() == [[1, 2], [3, 4]]
    assert "repeated" in capsys.readouterr().err


@pytest.mark.parametrize("content,message", [
    (b"the 1 2\nof 1\n", "line 2 has 1 numbers after the word, expected 2"),
    (b"the 1 2\nof 1 x\n", "not a number 'x' near line 2"),
    (b"", "empty file"),
    (b"hello world\n", "not a word-vector file"),
    (b"3 2\nthe 1.000 2.000\n", "header announces 3"),  # room for 3 rows, 1 there: a warning
    (b"3 2\nthe 1 2\n", "header claims 3 vectors of dimension 2, more than a 12-byte file can hold"),
    (b"99999999999 8\nthe 1 2 3 4 5 6 7 8\n", "header claims 99,999,999,999 vectors of dimension 8"),
])
def test_malformed_files_get_one_line_errors(tmp_path, capsys, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    if message.startswith("header announces"):
        load_vectors(str(path))
        assert message in capsys.readouterr().err
        return
    with pytest.raises(InputError) as err:
        load_vectors(str(path))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_truncated_binary_is_reported(tmp_path):
    path = tmp_path / "v.bin"
    _write(_sample(), path, "word2vec", True)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(InputError, match="ends after 49 of 50 vectors"):
        load_vectors(str(path))


def test_store_layout_is_memory_mapped_and_identical(tmp_path):
    vecs = _sample(200, 5)
    path = tmp_path / "v.txt"
    _write(vecs, path, "glove", False)
    assert import_vectors(str(path), "small").format == "glove"
    back = load_vectors("small")
    assert isinstance(back.matrix, np.memmap) or isinstance(back.matrix.base, np.memmap)
    assert back.words == vecs.words and np.array_equal(back.matrix, vecs.matrix)
    assert np.allclose(back.norms, np.linalg.norm(vecs.matrix, axis=1), rtol=1e-6)
    assert len(open_stored("small", limit=10)) == 10
    assert back.get("日本") is not None and back.get("nope") is None
    assert back.index["w3"] == 3 and back.dim == 5


def test_unknown_spec_is_a_clear_error():
    with pytest.raises(InputError, match="no such vector file, and no stored vectors"):
        load_vectors("nothing-here")


def test_vectors_interface():
    vecs = Vectors(["a", "b", "a"], np.eye(3, dtype=np.float64))
    assert vecs.matrix.dtype == np.float32 and vecs.dim == 3 and len(vecs) == 3
    assert vecs.index == {"a": 0, "b": 1}
    assert vecs.get("a").tolist() == [1, 0, 0] and vecs.get("z") is None
    with pytest.raises(ValueError):
        Vectors(["a"], np.zeros((2, 3)))


def test_save_vectors_then_export_cli_round_trip(cli, tmp_path):
    vecs = _sample(30, 4)
    save_vectors(vecs, "mine")
    for fmt, extra in (("glove", []), ("word2vec", []), ("word2vec", ["--binary"])):
        out = tmp_path / f"out-{fmt}{len(extra)}"
        result = cli("embed", "export", "mine", "--format", fmt, *extra, "-o", out)
        assert result.exit_code == 0, result.stderr
        back = load_vectors(str(out))
        assert back.words == vecs.words and np.array_equal(back.matrix, vecs.matrix)
    result = cli("embed", "import", str(tmp_path / "out-glove0"), "--name", "again")
    assert result.exit_code == 0 and result.stdout.startswith("again\tglove\twords=30\tdim=4")
    result = cli("embed", "export", "mine", "--format", "glove", "--limit", "2")
    assert result.stdout.splitlines()[1].split()[0] == "w1" and len(result.stdout.splitlines()) == 2


def test_large_vocabularies_find_words_without_building_the_index():
    words = [f"w{i}" for i in range(60_000)] + ["w5"]
    vecs = Vectors(words, np.zeros((len(words), 2), dtype=np.float32))
    assert vecs.find("w5") == 5 and vecs.find("nope") is None
    assert vecs._index is None  # a few lookups scan the list
    for _ in range(10):
        assert vecs.find("w59999") == 59999
    assert vecs._index is not None and vecs.find("w5") == 5
    assert vecs.find("W7", case_insensitive=True) == 7


# ---------------------------------------------------------------- issue 19.14: headers that cannot fit
@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("compressed", [False, True])
def test_a_header_claiming_more_than_the_file_holds_is_one_error_before_allocating(cli, tmp_path, binary,
                                                                                   compressed):
    body = b"the " + (np.arange(8, dtype="<f4").tobytes() if binary else b"1 2 3 4 5 6 7 8") + b"\n"
    data = b"99999999999 8\n" + body
    path = tmp_path / ("v.bin.gz" if compressed else "v.bin")
    path.write_bytes(gzip.compress(data) if compressed else data)
    with pytest.raises(InputError, match="header claims 99,999,999,999 vectors of dimension 8"):
        load_vectors(str(path))
    result = cli("embed", "info", path)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and str(path) in result.stderr and "Traceback" not in result.stderr


def test_gzip_vector_files_go_through_the_guarded_opener(tmp_path, monkeypatch):
    from seqtool.core import binary

    vecs = _sample(50, 4)
    buf = io.BytesIO()
    write_vectors(vecs, buf, "glove")
    path = tmp_path / "v.txt.gz"
    path.write_bytes(gzip.compress(buf.getvalue()))
    assert load_vectors(str(path)).words == vecs.words
    monkeypatch.setattr(binary, "GZIP_RATIO_FLOOR", 1 << 20)
    bomb = tmp_path / "bomb.txt.gz"  # 8 MiB of one repeated row, ~1000x compressed
    bomb.write_bytes(gzip.compress(b"w 0 0 0 0\n" * (800 * 1024)))
    with pytest.raises(InputError, match="gzip bomb"):
        load_vectors(str(bomb))


def test_a_named_pipe_is_refused_not_waited_on(cli, tmp_path):
    # issue 19.8: a vector file is read twice (format detection, then loading); a FIFO hung
    import os

    import signal

    fifo = tmp_path / "v.fifo"
    os.mkfifo(fifo)

    def hung(*_):
        raise AssertionError("embed import waited on the FIFO")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        result = cli("embed", "import", fifo, "--name", "ff")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert result.exit_code == 1 and "not a regular file" in result.stderr and str(fifo) in result.stderr


@pytest.mark.parametrize("binary", [False, True])
def test_export_to_a_full_stdout_is_one_line(tmp_path, binary):
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = tmp_path / "v.txt"
    _write(_sample(), src, "word2vec", False)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "SEQTOOL_HOME": str(tmp_path / "h")}
    cmd = [sys.executable, "-m", "seqtool", "embed", "export", str(src)] + (["--binary"] if binary else [])
    with open("/dev/full", "wb") as full:
        done = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["seqtool: error: cannot write to stdout (No space left on device)"]
