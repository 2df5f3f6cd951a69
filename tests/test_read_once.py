"""Every training input is read once and hashed while it is read (issue 19 item 8): a FIFO
is not opened a second time (which would block forever), and stdin gets a sha256 too."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from seqtool.core.store import ModelStore

ROOT = Path(__file__).resolve().parents[1]
TEXT = "the cat sat on the mat\nthe dog sat on the log\n" * 30


def run_with_fifo(tmp_path, args: list, text: str = TEXT, timeout: float = 120):
    """`seqtool ARGS` (the FIFO is {fifo}) in a subprocess while a thread writes `text` into it."""
    fifo = tmp_path / "corpus.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(text), daemon=True)
    writer.start()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SEQTOOL_THREADS": "1", "OMP_NUM_THREADS": "1"}
    argv = [str(a).replace("{fifo}", str(fifo)) for a in args]
    try:
        done = subprocess.run([sys.executable, "-m", "seqtool", *argv], capture_output=True, text=True,
                              timeout=timeout, env=env)
    finally:
        if writer.is_alive():  # unblock the writer if seqtool never opened the FIFO
            with open(fifo, "rb") as fh:
                fh.read()
    assert done.returncode == 0, done.stderr
    return done


def test_ngram_train_reads_a_fifo_once_and_records_its_sha256(tmp_path):
    run_with_fifo(tmp_path, ["ngram", "train", "{fifo}", "--name", "ff"])
    corpus = ModelStore().open("ff", ("ngram",)).config["training"]["corpus"]
    assert corpus[0]["sha256"] == hashlib.sha256(TEXT.encode()).hexdigest()


def test_ngram_train_hashes_stdin_and_each_file_as_before(cli, tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(TEXT)
    result = cli("ngram", "train", "-", path, "--name", "si", input="a b c\n")
    assert result.exit_code == 0, result.stderr
    corpus = ModelStore().open("si", ("ngram",)).config["training"]["corpus"]
    assert corpus == [{"path": "<stdin>", "sha256": hashlib.sha256(b"a b c\n").hexdigest()},
                      {"path": str(path), "sha256": hashlib.sha256(TEXT.encode()).hexdigest()}]


def test_embed_train_records_the_sha256_of_stdin(cli):
    result = cli("embed", "train", "-", "--name", "es", "--min-count", "1", "--dim", "4", "--epochs", "1",
                 "--workers", "1", input=TEXT)
    assert result.exit_code == 0, result.stderr
    corpus = ModelStore().open("es", ("vectors",)).config["training"]["corpus"]
    assert corpus == [{"path": "-", "bytes": len(TEXT), "sha256": hashlib.sha256(TEXT.encode()).hexdigest()}]


def test_train_lm_reads_a_fifo_once_and_records_its_sha256(tmp_path):
    run_with_fifo(tmp_path, ["train-lm", "{fifo}", "--name", "lf", "--layers", "1", "--hidden", "8", "--emb", "8",
                             "--epochs", "1", "--seed", "1", "--device", "cpu"])
    corpus = ModelStore().open("lf", ("lm",)).config["training"]["corpus"]
    assert corpus == [{"path": str(tmp_path / "corpus.fifo"), "sha256": hashlib.sha256(TEXT.encode()).hexdigest()}]


def test_train_lm_resume_keeps_matching_a_regular_file_by_its_sha256(cli, tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(TEXT)
    args = ("--layers", "1", "--hidden", "8", "--emb", "8", "--seed", "1", "--device", "cpu", "--name", "rs")
    assert cli("train-lm", path, "--epochs", "1", *args).exit_code == 0
    from seqtool.core.io import sha256_of
    from seqtool.training.checkpoint import load_checkpoint

    state = load_checkpoint(ModelStore().checkpoint_dir("rs", create=False), map_location="cpu")
    assert [list(d) for d in state["corpus_digests"]] == [[str(path), sha256_of(path)]]
    assert cli("train-lm", path, "--resume", "--epochs", "2", *args).exit_code == 0
    path.write_text(TEXT + "one more line\n")
    changed = cli("train-lm", path, "--resume", "--epochs", "3", *args)
    assert changed.exit_code == 2 and "corpus files differ" in changed.stderr


def test_classify_data_is_hashed_while_read_fifo_and_stdin_too(tmp_path, monkeypatch):
    import io

    from seqtool.classify.data import read_dataset
    from seqtool.core.io import sha256_of

    rows = "label\ttext\n" + "pos\tgood\nneg\tbad\n" * 5
    path = tmp_path / "d.tsv"
    path.write_text(rows)
    assert read_dataset(str(path)).sha256 == sha256_of(path)
    fifo = tmp_path / "d.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(rows), daemon=True)
    writer.start()
    data = read_dataset(str(fifo))
    writer.join(5)
    assert len(data) == 10 and data.sha256 == hashlib.sha256(rows.encode()).hexdigest()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(rows.encode()))))
    assert read_dataset("-").sha256 == hashlib.sha256(rows.encode()).hexdigest()


def test_classify_folder_fingerprint_is_todays_list(tmp_path):
    from seqtool.classify.data import read_dataset
    from seqtool.core.io import sha256_of

    root = tmp_path / "data"
    for label, text in (("pos", "good film"), ("neg", "bad film")):
        (root / label).mkdir(parents=True)
        (root / label / "a.txt").write_text(text)
    (root / "pos" / ".hidden").write_text("not read, but part of the fingerprint")
    expected = hashlib.sha256()  # the (relative path, sha256) list the fingerprint always was
    for f in sorted(x for x in root.rglob("*") if x.is_file()):
        expected.update(f"{f.relative_to(root)}\0{sha256_of(f)}\n".encode())
    assert read_dataset(str(root)).sha256 == expected.hexdigest()
