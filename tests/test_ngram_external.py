"""ngram train beyond memory (ngram/external.py): sorted runs on disk give the very tables,
ARPA and perplexity of the in-memory path; --memory sizes; interrupted builds clean up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.core.errors import UsageError
from seqtool.core.text import Tokenizer
from seqtool.ngram import NgramConfig, train_ngram
from seqtool.ngram.counts import NgramCounter
from seqtool.ngram.external import BudgetCounter, _Spool
from seqtool.ngram.options import parse_memory, physical_memory
from seqtool.ngram.train import count_corpus

REPO = Path(__file__).resolve().parent.parent


def zipf_corpus(n_sentences: int, vocab: int = 400, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(f"w{int(x) % vocab}" for x in rng.zipf(1.3, size=rng.integers(0, 25)))
            for _ in range(n_sentences)]


def assert_same_counts(a, b) -> None:
    assert a.words == b.words
    assert (a.tokens, a.sentences) == (b.tokens, b.sentences)
    np.testing.assert_array_equal(a.unigram, b.unigram)
    for k in range(2, a.order + 1):
        np.testing.assert_array_equal(a.keys[k], b.keys[k], err_msg=f"keys of order {k}")
        np.testing.assert_array_equal(a.counts[k], b.counts[k], err_msg=f"counts of order {k}")
        np.testing.assert_array_equal(a.suffix[k], b.suffix[k], err_msg=f"suffixes of order {k}")


def count(lines, order, **kw):
    return count_corpus(lines, order, Tokenizer("word"), **kw)


# ------------------------------------------------------------------ sizes
@pytest.mark.parametrize("text, size", [("4G", 4 << 30), ("300M", 300 << 20), ("1.5g", 3 << 29),
                                        ("2048K", 2 << 20), ("2048", 2 << 20), ("1048576b", 1 << 20),
                                        ("64MiB", 64 << 20), ("8 GB", 8 << 30)])
def test_memory_sizes_read_as_lmplz_reads_them(text, size):
    assert parse_memory(text) == size  # a bare number is KiB, as lmplz -S / GNU sort


def test_memory_share_of_the_machine():
    assert parse_memory("50%") == physical_memory() // 2
    assert parse_memory(None) == int(physical_memory() * 0.8)  # the default, lmplz's -S 80%


@pytest.mark.parametrize("text", ["lots", "4X", "0%", "150%", "512K", "-1G", ""])
def test_bad_memory_sizes_are_refused_in_one_line(text):
    with pytest.raises(UsageError, match="--memory"):
        parse_memory(text)


# ------------------------------------------------------------------ the same counts
@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_runs_on_disk_give_the_in_memory_tables(order, tmp_path):
    lines = zipf_corpus(3000)
    ref = count(lines, order)
    counter_dirs = []
    got = count(lines, order, external=True, chunk_tokens=5000, temp_dir=str(tmp_path),
                stage=lambda name, total: counter_dirs.append(name) or (lambda n: None))
    assert_same_counts(ref, got)
    if order > 1:  # several runs were merged, every order went through the three stages
        assert [s.split()[0] for s in counter_dirs] == ["sorting", "merging", "indexing"] * (order - 2) + ["sorting", "merging"]
    assert list(tmp_path.iterdir()) == []


def test_a_counter_moves_to_disk_when_its_tables_pass_the_budget(tmp_path):
    lines = zipf_corpus(4000, vocab=2000)
    said = []
    with BudgetCounter(4, "1M", str(tmp_path), info=said.append) as counter:
        for line in lines:
            counter.add(line.split())
        assert counter.external and len(counter._spool.chunks) > 3
        assert len(list(tmp_path.iterdir())) == 1  # one private folder
        got = counter.finish()
    assert "memory budget" in said[0] and str(tmp_path) in said[0]
    ref = NgramCounter(4)
    for line in lines:
        ref.add(line.split())
    assert_same_counts(ref.finish(), got)
    assert list(tmp_path.iterdir()) == []


def test_a_corpus_that_fits_stays_in_memory(tmp_path):
    with BudgetCounter(5, "1G", str(tmp_path)) as counter:
        for line in zipf_corpus(2000):
            counter.add(line.split())
        counter.finish()
        assert not counter.external
    assert list(tmp_path.iterdir()) == []


def test_a_long_corpus_that_fits_spools_its_ids_and_removes_them(tmp_path):
    """Past an eighth of the budget the ids of the chunks counted so far wait on disk, not in
    memory; a corpus that fits in the end still counts in memory and leaves nothing."""
    rng = np.random.default_rng(0)
    lines = [" ".join(f"w{int(x)}" for x in rng.integers(0, 40, 25)) for _ in range(14000)]
    with BudgetCounter(2, "8M", str(tmp_path)) as counter:
        for i, line in enumerate(lines):
            counter.add(line.split())
            if i == 10000:
                assert len(list(tmp_path.iterdir())) == 1 and counter._kept == []
        got = counter.finish()
        assert not counter.external
    assert list(tmp_path.iterdir()) == []
    assert_same_counts(count(lines, 2), got)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 6), max_size=9), max_size=60), st.integers(1, 5),
       st.integers(1024, 1100))
def test_any_corpus_counts_the_same_both_ways(sentences, order, chunk):
    lines = [" ".join(f"t{i}" for i in s) for s in sentences]
    assert_same_counts(count(lines, order), count(lines, order, external=True, chunk_tokens=chunk))


def test_merge_with_many_small_runs_and_blocks(tmp_path, monkeypatch):
    """Blocks far smaller than the runs: the merge bound is exercised at every step."""
    monkeypatch.setattr("seqtool.ngram.external.MIN_BLOCK", 7)
    lines = zipf_corpus(3000, vocab=300, seed=3)
    got = count(lines, 3, external=True, chunk_tokens=1024, memory="1M", temp_dir=str(tmp_path))
    assert_same_counts(count(lines, 3), got)


# ------------------------------------------------------------------ the same model
def test_arpa_and_perplexity_equal_to_the_in_memory_build(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQTOOL_VERBOSE", "1")  # the log line saying the build went to disk
    corpus = tmp_path / "train.txt"
    corpus.write_text("\n".join(zipf_corpus(6000, vocab=3000, seed=1)) + "\n")
    test = tmp_path / "test.txt"
    test.write_text("\n".join(zipf_corpus(300, vocab=3000, seed=2)) + "\n")
    temp = tmp_path / "runs"
    temp.mkdir()
    a = cli("ngram", "train", corpus, "-n", "5", "--name", "mem", "--arpa", tmp_path / "mem.arpa")
    b = cli("ngram", "train", corpus, "-n", "5", "--name", "disk", "--arpa", tmp_path / "disk.arpa",
            "--memory", "1M", "--temp-dir", temp)
    assert a.exit_code == 0 and b.exit_code == 0, a.stderr + b.stderr
    assert "sorted runs" in b.stderr and "sorted runs" not in a.stderr
    # the estimate is streamed within 1M too: no warning; the big orders' hash tables are left out
    assert "the estimate of" not in b.stderr and "hash table" in b.stderr
    assert (tmp_path / "mem.arpa").read_bytes() == (tmp_path / "disk.arpa").read_bytes()
    sa = cli("ngram", "score", "mem", test, "--json")
    sb = cli("ngram", "score", "disk", test, "--json")
    assert sa.stdout == sb.stdout and '"perplexity"' in sa.stdout
    assert list(temp.iterdir()) == []


def test_library_train_takes_memory_and_temp_dir(tmp_path):
    lines = zipf_corpus(3000, vocab=2000)
    a = train_ngram(lines, NgramConfig(order=3))
    b = train_ngram(lines, NgramConfig(order=3, memory="1M", temp_dir=str(tmp_path)))
    for k in range(1, 4):
        np.testing.assert_array_equal(a.logp[k], b.logp[k])
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_a_bad_memory_or_temp_dir(cli, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n")
    bad = cli("ngram", "train", corpus, "--memory", "lots")
    assert bad.exit_code == 2 and "--memory" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    missing = cli("ngram", "train", corpus, "--memory", "1M", "--temp-dir", tmp_path / "nowhere")
    assert missing.exit_code == 2 and "--temp-dir" in missing.stderr


def test_prune_and_min_count_still_parse_from_text():
    assert NgramConfig(order=3, prune="0 0 1").prune == [0, 0, 1]
    assert NgramConfig(order=3, min_count="1,1,2").prune == [0, 0, 1]
    with pytest.raises(UsageError, match="not both"):
        NgramConfig(prune="0 1", min_count="1 2")
    with pytest.raises(UsageError, match="whole numbers"):
        NgramConfig(prune="0 x")


# ------------------------------------------------------------------ interrupted builds
def _lines_then(lines, exc, after):
    for i, line in enumerate(lines):
        if i == after:
            raise exc
        yield line


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), OSError("disk full")])
def test_an_interrupted_count_removes_its_runs(exc, tmp_path):
    lines = zipf_corpus(5000, vocab=2000)
    with pytest.raises(type(exc)):
        count(_lines_then(lines, exc, 4000), 4, memory="1M", temp_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_full_temp_dir_is_one_line_naming_it(tmp_path, monkeypatch):
    from seqtool.core.errors import OutputError

    def full(self, *a, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_Spool, "_merge_runs", full)
    with pytest.raises(OutputError, match=r"--temp-dir .*seqtool-ngram-.*No space left on device"):
        count(zipf_corpus(3000), 3, external=True, chunk_tokens=2000, temp_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_failing_merge_removes_its_runs(tmp_path, monkeypatch):
    merge = _Spool._merge_runs

    def broken(self, k, *a, **kw):
        if k < 3:
            return merge(self, k, *a, **kw)
        assert any(self.root.glob("run3-*.bin")) and any(self.root.glob("rows2.bin"))  # files were there
        raise KeyboardInterrupt

    monkeypatch.setattr(_Spool, "_merge_runs", broken)
    with pytest.raises(KeyboardInterrupt):
        count(zipf_corpus(3000), 3, external=True, chunk_tokens=2000, temp_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_sigterm_mid_build_leaves_no_model_and_no_runs(tmp_path):
    """The CLI turns SIGTERM into the Ctrl-C path: exit 130, one line, nothing left behind."""
    home, temp = tmp_path / "home", tmp_path / "runs"
    home.mkdir()
    temp.mkdir()
    env = {**os.environ, "SEQTOOL_HOME": str(home), "PYTHONPATH": str(REPO), "SEQTOOL_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "seqtool", "ngram", "train", "-", "-n", "4", "--name", "cut",
                             "--memory", "1M", "--temp-dir", str(temp)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    lines = ("\n".join(zipf_corpus(8000, vocab=3000)) + "\n").encode()
    proc.stdin.write(lines)
    proc.stdin.flush()  # stdin stays open: the build waits for more text, runs on disk
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.is_dir() for p in temp.iterdir()):
        time.sleep(0.05)
    assert any(temp.iterdir()), "the build never went to disk"
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out == b""
    assert list(temp.iterdir()) == []
    models = subprocess.run([sys.executable, "-m", "seqtool", "models", "list"], env=env,
                            capture_output=True, text=True)
    assert "cut" not in models.stdout


def test_stage_bars_with_a_real_progress_display(cli, tmp_path, monkeypatch):
    """The per-stage bars (sorting, merging, indexing, estimating order k) drive rich's Progress."""
    monkeypatch.setenv("SEQTOOL_PROGRESS", "1")
    corpus = tmp_path / "train.txt"
    corpus.write_text("\n".join(zipf_corpus(4000, vocab=2000)) + "\n")
    seen = []
    from seqtool.ngram import api

    real = api.count_corpus

    def spy(*a, stage=None, **kw):
        def wrapped(name, total):
            seen.append((name, total))
            return stage(name, total)
        return real(*a, stage=wrapped, **kw)

    real_build = api.build_model

    def spy_build(*a, stage=None, **kw):
        def wrapped(name, total):
            seen.append((name, total))
            return stage(name, total)
        return real_build(*a, stage=wrapped, **kw)

    monkeypatch.setattr(api, "count_corpus", spy)
    monkeypatch.setattr(api, "build_model", spy_build)
    res = cli("ngram", "train", corpus, "-n", "3", "--name", "bars", "--memory", "1M", "--json")
    assert res.exit_code == 0, res.stderr
    assert [name for name, _ in seen] == ["sorting 2-grams", "merging 2-grams", "indexing 2-grams",
                                          "sorting 3-grams", "merging 3-grams", "estimating 1-grams",
                                          "estimating 2-grams", "estimating 3-grams"]
    assert all(total > 0 for _, total in seen)
    assert '"model": "bars"' in res.stdout
