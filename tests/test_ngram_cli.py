"""Golden tests for `seqtool ngram` (the numbers are the hand-computed ones of test_ngram.py)."""

from __future__ import annotations

import json
import math

import pytest

CORPUS = "b d\nb d b\nb b\n"


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "c3.txt"
    path.write_text(CORPUS)
    return path


def lines(result):
    return [ln for ln in result.stdout.splitlines() if not ln.startswith("seconds\t")]


def test_train_prints_a_summary_and_stores_the_model(cli, corpus, tmp_path):
    result = cli("ngram", "train", corpus, "-n", "2", "--name", "bd", "--arpa", tmp_path / "bd.arpa")
    assert result.exit_code == 0, result.stderr
    assert lines(result) == ["model\tbd", "order\t2", "smoothing\tmkn", "level\tword", "tokens\t10",
                             "sentences\t3", "vocab\t5", "ngrams\t5 6", f"arpa\t{tmp_path / 'bd.arpa'}"]
    assert result.stderr == ""
    arpa = (tmp_path / "bd.arpa").read_text()
    assert "\\data\\\nngram 1=5\nngram 2=6\n" in arpa and arpa.endswith("\\end\\\n")
    from seqtool.core.store import ModelStore

    info = ModelStore().open("bd", kinds=("ngram",))
    assert info.config["config"]["order"] == 2 and info.config["training"]["corpus"][0]["sha256"]


def test_score_golden(cli, corpus):
    cli("ngram", "train", corpus, "-n", "2", "--name", "bd")
    result = cli("ngram", "score", "bd", "-", "--per-sentence", input="b d\n\nd zz\n")
    assert result.exit_code == 0, result.stderr
    # p(b d) = 13/72 * 131/420 * 73/168; "d zz": zz is an OOV scored as <unk>
    assert result.stdout.splitlines()[0] == f"1\t{math.log10(13 / 72 * 131 / 420 * 73 / 168):.4f}\t3\t0\t3.4444"
    assert result.stdout.splitlines()[1:] == ["2\t-2.1059\t3\t1\t5.0345", "total\t-3.7172\t6\t1\t4.1643\t3.3203"]
    plain = cli("ngram", "score", "bd", corpus)
    assert plain.stdout.splitlines() == ["sentences\t3", "tokens\t10", "oov\t0", "log10_prob\t-5.6064",
                                         "perplexity\t3.6361", "perplexity_excl_oov\t3.6361"]
    js = json.loads(cli("ngram", "score", "bd", corpus, "--json").stdout)
    assert js["tokens"] == 10 and js["perplexity"] == pytest.approx(3.6361, abs=1e-4)


def test_predict_golden(cli, corpus):
    cli("ngram", "train", corpus, "-n", "2", "--name", "bd")
    result = cli("ngram", "predict", "bd", "b", "--top", "3", "--mid-sentence")
    # p(</s>|b) = 437/1260, p(d|b) = 131/420, p(b|b) = 41/180
    assert result.stdout.splitlines() == ["</s>\t0.346825", "d\t0.311905", "b\t0.227778"]
    js = [json.loads(x) for x in cli("ngram", "predict", "bd", "", "--top", "1", "--json").stdout.splitlines()]
    assert js[0]["token"] in ("b", "d", "</s>", "<unk>") and 0 < js[0]["prob"] <= 1


def test_generate_is_seeded_and_uses_the_default_model(cli, shakespeare_small):
    assert cli("ngram", "train", shakespeare_small, "-n", "3", "--name", "sh").exit_code == 0
    a = cli("ngram", "generate", "--num", "3", "--seed", "7", "--top-k", "20", "--max-len", "12")
    b = cli("ngram", "generate", "sh", "--num", "3", "--seed", "7", "--top-k", "20", "--max-len", "12")
    assert a.exit_code == 0 and a.stdout == b.stdout and len(a.stdout.splitlines()) == 3
    assert all(len(line.split()) <= 12 for line in a.stdout.splitlines())
    primed = cli("ngram", "generate", "sh", "--prime", "First Citizen:", "--seed", "1", "--temp", "0")
    assert primed.stdout.startswith("First Citizen:")


def test_char_level(cli, shakespeare_small):
    result = cli("ngram", "train", shakespeare_small, "-n", "5", "--level", "char", "--name", "ch")
    assert result.exit_code == 0 and "level\tchar" in result.stdout
    pred = cli("ngram", "predict", "ch", "First Citiz", "--top", "1")
    assert pred.stdout.startswith("'e'\t")
    gen = cli("ngram", "generate", "ch", "--seed", "3", "--max-len", "40")
    assert gen.exit_code == 0 and 0 < len(gen.stdout.rstrip("\n")) <= 40


def test_arpa_path_as_model(cli, corpus, tmp_path):
    cli("ngram", "train", corpus, "-n", "2", "--name", "bd", "--arpa", tmp_path / "bd.arpa.gz")
    stored = cli("ngram", "score", "bd", corpus).stdout
    assert cli("ngram", "score", tmp_path / "bd.arpa.gz", corpus).stdout == stored


def test_tiny_corpus_warns_on_one_line(cli, tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("a b\n")
    result = cli("ngram", "train", path, "-n", "3")
    assert result.exit_code == 0
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("seqtool: warning: Kneser-Ney")


@pytest.mark.parametrize("args, code, message", [
    (["train", "{corpus}", "-n", "3", "--prune", "1 0"], 2, "pruning unigrams is not supported"),
    (["train", "{corpus}", "-n", "3", "--prune", "0 2 1"], 2, "must not decrease"),
    (["train", "{corpus}", "--smoothing", "magic"], 2, "unknown smoothing 'magic'"),
    (["train", "{corpus}", "-n", "0"], 2, "-n/--order must be between"),
    (["train", "{corpus}", "--smoothing", "addk", "--k", "0"], 2, "--k must be a positive number"),
    (["train", "/no/such/file"], 1, "/no/such/file: no such file or directory"),
    (["score", "nosuch", "{corpus}"], 1, "model 'nosuch' not found"),
    (["score", "missing.arpa", "{corpus}"], 1, "missing.arpa: no such ARPA file"),
    (["predict", "{corpus}", "b"], 1, "not an ARPA file"),
])
def test_errors_are_one_line(cli, corpus, args, code, message):
    result = cli("ngram", *[a.replace("{corpus}", str(corpus)) for a in args])
    assert result.exit_code == code, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_blank_corpus_is_refused(cli, tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("\n  \n")
    result = cli("ngram", "train", path)
    assert result.exit_code == 2 and "no tokens to train on" in result.stderr


def test_corrupted_model_is_one_clear_error(cli, corpus):
    import json
    import struct

    from seqtool.core.store import ModelStore

    cli("ngram", "train", corpus, "-n", "2", "--name", "bd")
    path = ModelStore().open("bd", kinds=("ngram",)).path / "model.safetensors"
    data = bytearray(path.read_bytes())
    (n,) = struct.unpack("<Q", data[:8])
    start = json.loads(data[8:8 + n])["keys.2"]["data_offsets"][0] + 8 + n
    data[start:start + 8] = (1 << 40).to_bytes(8, "little")  # a key pointing past the unigrams
    path.write_bytes(bytes(data))
    result = cli("ngram", "score", "bd", corpus)
    assert result.exit_code == 1 and "order 2 keys are corrupted" in result.stderr
    assert len(result.stderr.splitlines()) == 1
