"""A name that holds a model of one kind is not silently replaced by a model of another
kind (issue 18 item 7): every storing command refuses it before any work, in one line
naming the name, its kind and --force, exit 2; with --force it is replaced."""

from __future__ import annotations

import pytest

from seqtool.core.store import KINDS, ModelStore

GLOVE = "the 0.1 0.2 0.3\ncat 0.4 0.5 0.6\nsat 0.7 0.8 0.9\n"


@pytest.fixture
def files(tmp_path):
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("the cat sat\nthe dog sat\n" * 20)
    glove = tmp_path / "g.txt"
    glove.write_text(GLOVE)
    return tiny, glove


def refused(result, kind: str) -> None:
    assert result.exit_code == 2, result.stderr
    message = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(message) == 1, result.stderr
    assert "'clash'" in message[0] and f"is {'an' if kind in ('ngram', 'lm') else 'a'} {kind} model" in message[0] and "--force" in message[0]


def test_embed_import_refuses_an_ngram_name_and_force_replaces_it(cli, files):
    tiny, glove = files
    assert cli("ngram", "train", tiny, "--name", "clash").exit_code == 0
    refused(cli("embed", "import", glove, "--name", "clash"), "ngram")
    assert ModelStore().open("clash", KINDS).kind == "ngram"  # intact
    assert cli("ngram", "score", "clash", tiny).exit_code == 0
    result = cli("embed", "import", glove, "--name", "clash", "--force")
    assert result.exit_code == 0, result.stderr
    assert ModelStore().open("clash", KINDS).kind == "vectors"


def test_ngram_train_refuses_a_vectors_name_before_reading_its_input(cli, files, tmp_path):
    tiny, glove = files
    assert cli("embed", "import", glove, "--name", "clash").exit_code == 0
    # The corpus does not exist: the clash is found first, before any work.
    refused(cli("ngram", "train", tmp_path / "absent.txt", "--name", "clash"), "vectors")
    refused(cli("ngram", "train", tiny, "--name", "clash"), "vectors")
    assert ModelStore().open("clash", KINDS).kind == "vectors"
    assert cli("ngram", "train", tiny, "--name", "clash", "--force").exit_code == 0
    assert ModelStore().open("clash", KINDS).kind == "ngram"


def test_a_retrain_of_the_same_kind_needs_no_force(cli, files):
    tiny, _ = files
    assert cli("ngram", "train", tiny, "--name", "clash").exit_code == 0
    assert cli("ngram", "train", tiny, "-n", "2", "--name", "clash").exit_code == 0
    assert ModelStore().open("clash", KINDS).config["config"]["order"] == 2


def test_embed_train_refuses_an_ngram_name(cli, files):
    tiny, _ = files
    assert cli("ngram", "train", tiny, "--name", "clash").exit_code == 0
    refused(cli("embed", "train", tiny, "--name", "clash", "--min-count", "1", "--dim", "4", "--epochs", "1",
                "--workers", "1"), "ngram")
    assert ModelStore().open("clash", KINDS).kind == "ngram"
    result = cli("embed", "train", tiny, "--name", "clash", "--min-count", "1", "--dim", "4", "--epochs", "1",
                 "--workers", "1", "--force")
    assert result.exit_code == 0, result.stderr
    assert ModelStore().open("clash", KINDS).kind == "vectors"



DOC2VEC = ("--algo", "doc2vec", "--dbow", "--min-count", "1", "--dim", "4", "--epochs", "1", "--workers", "1")


def test_embed_train_doc2vec_refuses_an_ngram_name_before_reading_and_force_replaces_it(cli, files, tmp_path):
    tiny, _ = files
    assert cli("ngram", "train", tiny, "--name", "clash").exit_code == 0
    # The documents do not exist: the clash is found first, before any work.
    refused(cli("embed", "train", tmp_path / "absent.txt", "--name", "clash", *DOC2VEC), "ngram")
    refused(cli("embed", "train", tiny, "--name", "clash", *DOC2VEC), "ngram")
    assert ModelStore().open("clash", KINDS).kind == "ngram"  # intact
    assert cli("ngram", "score", "clash", tiny).exit_code == 0
    result = cli("embed", "train", tiny, "--name", "clash", *DOC2VEC, "--force", "--json")
    assert result.exit_code == 0, result.stderr
    stored = ModelStore().open("clash", KINDS)
    assert stored.kind == "vectors" and stored.config["config"]["algo"] == "doc2vec"
    assert '"documents": 40' in result.stdout  # one per line of tiny.txt
    near = cli("embed", "neighbors", "clash", "1", "--top", "1")  # the document ids are the rows
    assert near.exit_code == 0 and near.stdout.split("\t")[1] in [str(i) for i in range(2, 41)], near.stdout


def test_embed_train_doc2vec_takes_the_train_config_checks(cli, files):
    tiny, _ = files
    # TrainConfig's check, as for word2vec: nothing to train without negative sampling or --hs.
    result = cli("embed", "train", tiny, "--name", "d", *DOC2VEC, "--negative", "0")
    assert result.exit_code == 2 and "--negative 0 leaves nothing to train" in result.stderr
    assert not ModelStore().exists("d")
    result = cli("embed", "train", tiny, "--name", "d", *DOC2VEC, "--negative", "0", "--hs")
    assert result.exit_code == 0, result.stderr
    config = ModelStore().open("d", KINDS).config["config"]
    assert (config["hs"], config["negative"], config["epochs"], config["vector_size"]) == (True, 0, 1, 4)


LM = ("--layers", "1", "--hidden", "8", "--emb", "8", "--epochs", "1", "--seed", "1", "--device", "cpu")


def test_train_lm_refuses_an_ngram_name_before_any_work_and_force_replaces_it(cli, files, tmp_path):
    tiny, _ = files
    assert cli("ngram", "train", tiny, "--name", "clash").exit_code == 0
    refused(cli("train-lm", tmp_path / "absent.txt", "--name", "clash", *LM), "ngram")
    refused(cli("train-lm", tiny, "--name", "clash", *LM), "ngram")
    assert ModelStore().open("clash", KINDS).kind == "ngram"
    assert not ModelStore().checkpoint_dir("clash", create=False).exists()  # no work was done
    result = cli("train-lm", tiny, "--name", "clash", "--force", *LM)
    assert result.exit_code == 0, result.stderr
    assert ModelStore().open("clash", KINDS).kind == "lm"


def test_classify_train_refuses_a_vectors_name_and_force_replaces_it(cli, files, tmp_path):
    _, glove = files
    data = tmp_path / "d.tsv"
    data.write_text("label\ttext\n" + "pos\tgood fine great\nneg\tbad awful poor\n" * 10)
    assert cli("embed", "import", glove, "--name", "clash").exit_code == 0
    args = ("--epochs", "1", "--hidden", "8", "--emb", "8", "--device", "cpu", "--no-refit", "--name", "clash")
    refused(cli("classify", "train", data, *args), "vectors")
    assert ModelStore().open("clash", KINDS).kind == "vectors"
    result = cli("classify", "train", data, *args, "--force")
    assert result.exit_code == 0, result.stderr
    assert ModelStore().open("clash", KINDS).kind == "classifier"


def test_classify_cv_has_no_force(cli):
    result = cli("classify", "cv", "--help")
    assert "--force" not in result.stdout and "--force" in cli("classify", "train", "--help").stdout
