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


# ---------------------------------------------------------------- issue 18.4: stupid backoff is not normalized
def test_stupid_backoff_scores_are_labelled_unnormalized_and_never_nan(cli, tmp_path):
    corpus = tmp_path / "sb.txt"
    corpus.write_text("the company said\nthe company is\n")
    assert cli("ngram", "train", corpus, "-n", "2", "--smoothing", "stupid-backoff", "--name", "sb").exit_code == 0
    result = cli("ngram", "score", "sb", "-", "--per-sentence", input="the company said\nzebras are rare\n")
    assert result.exit_code == 0, result.stderr
    assert "nan" not in result.stdout and "inf" not in result.stdout
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    # "the company said": p(the|<s>) = 1, p(company|the) = 1, p(said|company) = 1/2, p(</s>|said) = 1
    assert rows[0] == ["1", f"{math.log10(0.5):.4f}", "4", "0"]
    # three OOVs, left out of the score; "</s>" after an OOV backs off: 0.4 * 2/8 (</s> is 2 of 8 tokens)
    assert rows[1] == ["2", f"{math.log10(0.4 * 2 / 8):.4f}", "4", "3"]
    assert rows[2][0] == "total" and len(rows[2]) == 4
    assert "not probabilities" in result.stderr and len(result.stderr.splitlines()) == 1
    plain = cli("ngram", "score", "sb", "-", input="zebras\n").stdout.splitlines()
    assert plain == ["sentences\t1", "tokens\t2", "oov\t1", f"log10_score\t{math.log10(0.4 * 2 / 8):.4f}"]
    js = json.loads(cli("ngram", "score", "sb", "-", "--json", input="zebras\n").stdout)
    assert "perplexity" not in js and js["log10_score"] == pytest.approx(math.log10(0.1))


def test_stupid_backoff_read_back_from_arpa_is_still_unnormalized(cli, tmp_path):
    corpus = tmp_path / "sb.txt"
    corpus.write_text("the company said\n")
    cli("ngram", "train", corpus, "-n", "2", "--smoothing", "stupid-backoff", "--arpa", tmp_path / "sb.arpa")
    result = cli("ngram", "score", tmp_path / "sb.arpa", "-", input="zebras\n")
    assert result.exit_code == 0 and "log10_score" in result.stdout and "perplexity" not in result.stdout


def test_excluding_oovs_never_gives_nan_when_an_oov_scores_minus_infinity(cli, corpus):
    # mle gives the OOV class probability 0: log10 p = -inf for the total, but the
    # in-vocabulary part is finite (it was computed as -inf - -inf = nan).
    cli("ngram", "train", corpus, "-n", "2", "--smoothing", "mle", "--name", "ml")
    result = cli("ngram", "score", "ml", "-", input="b d\nzz\n")
    values = dict(line.split("\t") for line in result.stdout.splitlines())
    assert values["perplexity"] == "inf" and values["perplexity_excl_oov"] != "nan"
    # b d: p(b|<s>) = 1, p(d|b) = 2/5, p(</s>|d) = 1/2; zz: p(</s>|<unk>) = 1/V for an unseen
    # history, V = 4 (<unk> b d </s>); the OOV zz itself is left out: 4 tokens
    assert float(values["perplexity_excl_oov"]) == pytest.approx((1 * 2 / 5 * 1 / 2 * 1 / 4) ** (-1 / 4), abs=1e-4)


# ---------------------------------------------------------------- issue 18.21: several inputs
def test_score_accepts_several_inputs_and_stdin(cli, corpus, tmp_path):
    cli("ngram", "train", corpus, "-n", "2", "--name", "bd")
    other = tmp_path / "other.txt"
    other.write_text("d zz\n")
    both = cli("ngram", "score", "bd", corpus, other, "-", "--per-sentence", input="b d\n")
    assert both.exit_code == 0, both.stderr
    rows = both.stdout.splitlines()
    assert [r.split("\t")[0] for r in rows] == ["1", "2", "3", "4", "5", "total"]
    assert rows[3].split("\t")[1:] == ["-2.1059", "3", "1", "5.0345"]  # d zz, as in test_score_golden
    assert rows[4].split("\t")[1] == rows[0].split("\t")[1]  # "b d" from stdin = line 1 of the corpus
    assert rows[-1].split("\t")[2:4] == ["16", "1"]


# ---------------------------------------------------------------- issue 19.4 / 19.12 / 19.16: --arpa
@pytest.mark.parametrize("where", ["input", "missing-folder", "directory"])
def test_arpa_output_is_refused_before_any_work(cli, corpus, tmp_path, where):
    from seqtool.core.store import ModelStore

    target = {"input": corpus, "missing-folder": tmp_path / "nope" / "x.arpa", "directory": tmp_path}[where]
    before = corpus.read_text()
    result = cli("ngram", "train", corpus, "-n", "2", "--name", "bd", "--arpa", target)
    assert result.exit_code == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and "--arpa" in result.stderr and result.stdout == ""
    assert corpus.read_text() == before and not ModelStore().exists("bd")


def test_arpa_dash_writes_arpa_to_stdout_and_the_summary_to_stderr(cli, corpus, tmp_path):
    result = cli("ngram", "train", corpus, "-n", "2", "--name", "bd", "--arpa", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# seqtool ngram level=word") and result.stdout.endswith("\\end\\\n")
    assert "model\tbd" in result.stderr.splitlines() and "arpa\t-" in result.stderr.splitlines()
    assert not (tmp_path / "-").exists() and not __import__("os").path.exists("-")
    path = tmp_path / "out.arpa"
    path.write_text(result.stdout)
    assert cli("ngram", "score", path, corpus).stdout == cli("ngram", "score", "bd", corpus).stdout
    js = cli("ngram", "train", corpus, "-n", "2", "--name", "bd", "--arpa", "-", "--json")
    assert json.loads(js.stderr)["model"] == "bd" and js.stdout.startswith("# seqtool")


# ---------------------------------------------------------------- issue 16.5: one generation path
def test_ngram_generate_and_sample_share_the_generator_and_its_default_length(cli, tmp_path):
    corpus = tmp_path / "loop.txt"
    corpus.write_text("a " * 300 + "\n")  # greedy decoding never ends a sentence: the length cap does
    cli("ngram", "train", corpus, "-n", "2", "--name", "loop")
    gen = cli("ngram", "generate", "loop", "--temp", "0", "--num", "2")
    sam = cli("sample", "--model", "loop", "--temp", "0", "--num", "2", "--until-eos")
    assert gen.exit_code == 0 and sam.exit_code == 0, (gen.stderr, sam.stderr)
    assert gen.stdout == sam.stdout == ("a " * 99 + "a\n") * 2  # 100 words, the one default
    seeded = ["ngram", "generate", "loop", "--seed", "5", "--num", "3", "--prime", "a a"]
    assert cli(*seeded).stdout == cli("sample", "--model", "loop", "--seed", "5", "--num", "3", "--until-eos",
                                      "--prime", "a a", "--length", "100").stdout


def test_level_is_checked_not_silently_ignored(cli, corpus):
    cli("ngram", "train", corpus, "-n", "2", "--name", "bd")
    bad = cli("ngram", "score", "bd", corpus, "--level", "foo")
    assert bad.exit_code == 2 and "--level must be word or char" in bad.stderr and bad.stdout == ""
    other = cli("ngram", "predict", "bd", "b", "--level", "char")
    assert other.exit_code == 2 and "model 'bd' is word-level" in other.stderr
    assert cli("ngram", "score", "bd", corpus, "--level", "word").exit_code == 0


def test_training_from_a_named_pipe_ends(tmp_path):
    # issue 19.8: the corpus was opened a second time to hash it, which blocks forever on a FIFO
    import os
    import subprocess
    import sys
    import threading

    fifo = tmp_path / "corpus.fifo"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "w") as fh:
            fh.write(CORPUS)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    env = dict(os.environ, PYTHONPATH=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, "-m", "seqtool", "ngram", "train", str(fifo), "-n", "2", "--name", "ff"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "tokens\t10" in proc.stdout


def test_empty_input_has_no_perplexity_rather_than_nan(cli, corpus):
    cli("ngram", "train", corpus, "-n", "2", "--name", "bd")
    result = cli("ngram", "score", "bd", "-", input="")
    assert result.exit_code == 0 and "nan" not in result.stdout
    assert "perplexity\tn/a" in result.stdout.splitlines()
    js = cli("ngram", "score", "bd", "-", "--json", input="")
    assert json.loads(js.stdout)["perplexity"] is None and "NaN" not in js.stdout


def test_generate_refuses_a_count_or_length_below_one_before_loading_the_model(cli):
    # "nosuchmodel" is never opened: the options are refused first, with one line and exit code 2.
    for args, message in ((["--num", "0"], "--num must be at least 1 (got 0)"),
                          (["--max-len", "0"], "--max-len must be at least 1 (got 0)")):
        result = cli("ngram", "generate", "nosuchmodel", *args)
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr == f"seqtool: error: {message}\n"
