"""Queries from stdin or a file (fastText's `nn` / `analogies`, batch pairs and triples):
the same answers as the one-query commands and as gensim, streamed, unknown words reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from seqtool.vectors import Vectors
from seqtool.vectors.batch import NeighborsAnswer, Skipped, neighbors_lines, similarity_lines
from seqtool.vectors.store import save_vectors

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def vecs() -> Vectors:
    rng = np.random.default_rng(4)
    words = ["king", "queen", "man", "woman", "paris", "france", "rome", "italy", "cat", "dog", "car", "bus"]
    words += [f"w{i}" for i in range(40)]
    return Vectors(words, rng.normal(size=(len(words), 6)).astype(np.float32))


@pytest.fixture
def stored(vecs) -> str:
    save_vectors(vecs, "v")
    return "v"


def _kv(vecs: Vectors):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vecs.dim)
    kv.add_vectors(vecs.words, np.array(vecs.matrix))
    return kv


def _same(found: list[dict], expected: list[tuple], key: str = "word") -> None:
    assert [n[key] for n in found] == [w for w, _ in expected]
    assert [n["score"] for n in found] == pytest.approx([s for _, s in expected], abs=1e-6)


def _rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines()]


def test_neighbors_from_stdin_equal_the_one_query_commands(cli, stored):
    result = cli("embed", "neighbors", stored, "-", "--top", "3", input="king\n\nking woman -man\n# comment\ncat\n")
    assert result.exit_code == 0, result.stderr
    expected = (cli("embed", "neighbors", stored, "king", "--top", "3").stdout
                + cli("embed", "neighbors", stored, "-p", "king", "-p", "woman", "--negative", "man",
                      "--top", "3").stdout
                + cli("embed", "neighbors", stored, "cat", "--top", "3").stdout)
    assert result.stdout == expected
    assert [r[0] for r in _rows(result.stdout)] == ["king"] * 3 + ["king+woman-man"] * 3 + ["cat"] * 3


def test_neighbors_from_stdin_equal_gensim(cli, stored, vecs):
    kv = _kv(vecs)
    out = cli("embed", "neighbors", stored, "-", "--top", "4", "--json", input="paris italy -france\nw3\n").stdout
    first, second = [json.loads(line) for line in out.splitlines()]
    assert (first["positive"], first["negative"], first["method"]) == (["paris", "italy"], ["france"], "mean")
    expected = kv.most_similar(positive=["paris", "italy"], negative=["france"], topn=4)
    _same(first["neighbors"], expected)
    assert second["word"] == "w3"
    _same(second["neighbors"], kv.most_similar("w3", topn=4))
    cos = cli("embed", "neighbors", stored, "-", "--cosmul", "--top", "2", input="paris italy -france\n").stdout
    expected = kv.most_similar_cosmul(positive=["paris", "italy"], negative=["france"], topn=2)
    assert [r[1] for r in _rows(cos)] == [w for w, _ in expected]


def test_unknown_lines_are_reported_and_skipped(cli, stored):
    result = cli("embed", "neighbors", stored, "-", "--top", "1", input="king\nnope\n-man\ncat\n")
    assert result.exit_code == 0
    assert [r[0] for r in _rows(result.stdout)] == ["king", "cat"]
    assert "<stdin>: line 2: unknown word 'nope'" in result.stderr
    assert "<stdin>: line 3: a query needs at least one word without a leading '-'" in result.stderr
    assert "2 of 4 queries skipped" in result.stderr
    strict = cli("embed", "neighbors", stored, "-", "--top", "1", "--strict", input="king\nnope\ncat\n")
    assert strict.exit_code == 1 and strict.stdout.count("\n") == 1  # the answer before the bad line
    assert "error: <stdin>: line 2: unknown word 'nope'" in strict.stderr


def test_dash_mixed_with_words_is_refused(cli, stored):
    result = cli("embed", "neighbors", stored, "-", "king", input="")
    assert result.exit_code == 2 and "'-' reads the queries from stdin" in result.stderr


def test_similarity_batch_from_a_file_and_stdin(cli, stored, vecs, tmp_path):
    kv = _kv(vecs)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# word1\tword2\tgold\ncat\tdog\t7.5\ncar bus\nking\tnope\t1\nman\n")
    result = cli("embed", "similarity", stored, pairs)
    assert result.exit_code == 0
    rows = _rows(result.stdout)
    assert [r[:2] for r in rows] == [["cat", "dog"], ["car", "bus"]]
    assert float(rows[0][2]) == pytest.approx(float(kv.similarity("cat", "dog")), abs=1e-6)
    assert result.stdout.splitlines()[0] == cli("embed", "similarity", stored, "cat", "dog").stdout.strip()
    assert f"{pairs.name}: line 4: unknown word 'nope'" in result.stderr
    assert "line 5: expected two words, got 1" in result.stderr
    assert "2 of 4 pairs skipped" in result.stderr
    piped = cli("embed", "similarity", stored, "-", "--json", input="cat dog\n")
    assert json.loads(piped.stdout) == {"word1": "cat", "word2": "dog", "similarity": pytest.approx(float(rows[0][2]),
                                                                                                    abs=1e-6)}
    missing = cli("embed", "similarity", stored, tmp_path / "none.tsv")
    assert missing.exit_code == 1 and "none.tsv: no such file or directory (give two words, or a file" in missing.stderr
    one_word = cli("embed", "analogy", stored, "king")
    assert one_word.exit_code == 1 and "king: no such file or directory (give three words A B C" in one_word.stderr


def test_analogy_batch_equals_the_one_question_command(cli, stored, vecs, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(": capital\nfrance paris italy rome\nman king woman\nman king nope\n")
    result = cli("embed", "analogy", stored, questions, "--top", "2")
    assert result.exit_code == 0
    one = cli("embed", "analogy", stored, "france", "paris", "italy", "--top", "2").stdout
    two = cli("embed", "analogy", stored, "man", "king", "woman", "--top", "2").stdout
    expected = [["france", "paris", "italy", *r] for r in _rows(one)] + [["man", "king", "woman", *r] for r in _rows(two)]
    assert _rows(result.stdout) == expected
    assert "line 4: unknown word 'nope'" in result.stderr
    kv = _kv(vecs)
    add = cli("embed", "analogy", stored, "-", "--method", "add", "--top", "3", "--json", input="man king woman\n")
    record = json.loads(add.stdout)
    expected = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
    assert record["method"] == "add"
    _same(record["answers"], expected)
    wrong = cli("embed", "analogy", stored, "man", "king")
    assert wrong.exit_code == 2 and "give three words A B C, or one file" in wrong.stderr


def test_library_streams_yield_answers_and_skips(vecs):
    out = list(neighbors_lines(vecs, ["king", "zzz", "", "cat dog"], top_n=2))
    assert [type(a) for a in out] == [NeighborsAnswer, Skipped, NeighborsAnswer]
    assert out[1].line == 2 and "unknown word 'zzz'" in out[1].reason
    assert out[2].combined and out[2].label == "cat+dog"
    # lazily: nothing is read beyond the line being answered
    lines = iter(["cat dog", "car bus"])
    first = next(similarity_lines(vecs, lines))
    assert first.word1 == "cat" and next(lines) == "car bus"


def test_answers_are_flushed_before_the_next_line_is_read(stored, seqtool_home, tmp_path):
    # fastText's `nn` prompt: a pipe gets each answer while seqtool waits for the next query
    env = {**os.environ, "PYTHONPATH": REPO, "SEQTOOL_HOME": str(seqtool_home)}
    proc = subprocess.Popen([sys.executable, "-m", "seqtool", "embed", "neighbors", stored, "-", "--top", "2"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True, bufsize=1)
    try:
        proc.stdin.write("king\n")
        proc.stdin.flush()
        assert [proc.stdout.readline().split("\t")[0] for _ in range(2)] == ["king", "king"]
        proc.stdin.write("cat\n")
        proc.stdin.flush()
        assert [proc.stdout.readline().split("\t")[0] for _ in range(2)] == ["cat", "cat"]
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0 and proc.stdout.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()


def test_stream_answers_equal_direct_queries_on_random_lines(vecs):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from seqtool.core.errors import SeqtoolError
    from seqtool.vectors import queries

    token = st.sampled_from(vecs.words[:12] + ["nope"]).flatmap(
        lambda w: st.sampled_from([w, "-" + w]))

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.lists(token, min_size=1, max_size=4).map(" ".join), max_size=6))
    def check(lines):
        answers = list(neighbors_lines(vecs, lines, top_n=3))
        assert len(answers) == len(lines)
        for number, (line, answer) in enumerate(zip(lines, answers), 1):
            words = line.split()
            pos = [w for w in words if not w.startswith("-")]
            neg = [w[1:] for w in words if w.startswith("-")]
            assert answer.line == number
            try:
                if not pos:
                    raise SeqtoolError("no positive word")
                expected = (queries.neighbors(vecs, pos[0], top_n=3) if len(words) == 1
                            else queries.most_similar(vecs, pos, neg, top_n=3))
            except SeqtoolError:
                assert isinstance(answer, Skipped)
            else:
                assert isinstance(answer, NeighborsAnswer) and answer.matches == expected

    check()
