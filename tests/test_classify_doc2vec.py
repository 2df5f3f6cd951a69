"""classify train --features doc2vec:MODEL: document vectors + the linear head, end to end."""

from __future__ import annotations

import json
import random

import pytest
import torch

pytest.importorskip("gensim")

from seqtool.classify import store as saved  # noqa: E402
from seqtool.classify.api import evaluate_model, train_model  # noqa: E402
from seqtool.classify.logits import classifier_logits  # noqa: E402
from seqtool.classify.options import TrainOptions  # noqa: E402
from seqtool.core.errors import ModelError, UsageError  # noqa: E402
from seqtool.core.store import ModelStore  # noqa: E402
from seqtool.vectors import doc2vec  # noqa: E402
from seqtool.vectors.doc2vec import Doc2VecConfig, Document  # noqa: E402

torch.set_num_threads(1)

POS = ["great", "lovely", "superb", "fine"]
NEG = ["awful", "dull", "poor", "bad"]
FILLER = ["the", "film", "plot", "was", "and", "actors", "story", "a"]
SMALL = dict(vector_size=8, min_count=1, workers=1, epochs=10, sample=0, dm=False)
TINY = dict(arch="rnn", hidden=6, emb=6, batch_size=8, lr=0.02, device="cpu", seed=2, epochs=4, patience=4, refit=False)


def reviews(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        words = rng.sample(FILLER, 4) + rng.sample(POS if label == "pos" else NEG, 2)
        rng.shuffle(words)
        rows.append((label, " ".join(words)))
    return rows


@pytest.fixture
def d2v(tmp_path):
    rows = reviews(80)
    docs = [Document(str(i), text, f"<test>:{i}") for i, (_, text) in enumerate(rows)]
    model = doc2vec.train_model(docs, Doc2VecConfig(**SMALL))
    doc2vec.save_model(model, "reviews-d2v")
    data = tmp_path / "reviews.tsv"
    data.write_text("".join(f"{label}\t{text}\n" for label, text in rows))
    return data, model


def test_doc2vec_features_train_predict_and_refuse_a_replaced_model(cli, d2v, tmp_path):
    data, model = d2v
    result = cli("classify", "train", data, "--name", "d2v-clf", "--features", "doc2vec:reviews-d2v",
                 "--hidden", "6", "--emb", "6", "--epochs", "4", "--device", "cpu", "--seed", "2")
    assert result.exit_code == 0, result.stderr
    clf = saved.load("d2v-clf")
    conf = clf.info["config"]
    assert conf["model"]["doc_dim"] == 8 and conf["features"]["doc2vec"]["model"] == "reviews-d2v"
    texts = [text for _, text in reviews(80)]
    vectors = torch.from_numpy(doc2vec.infer(model, texts))  # (N, 8): what the classifier saw
    v = torch.from_numpy(doc2vec.infer(model, ["the film was great and superb"]))
    rnn, cnn, linear = clf.model.members
    assert getattr(linear, "doc", None) is None  # the linear member reads the n-grams only
    for net in (rnn, cnn):  # the default ensemble: these members have their own document-vector path
        # the path was trained, and its standardisation is the training texts' inferred vectors'
        assert net.doc.weight.abs().sum() > 0
        assert torch.allclose(net.doc_mean, vectors.mean(0), atol=1e-5)
        # the member's logits: the network's plus W_d (v - mean) / sd + b_d of the vector inferred now
        enc = clf.featurizer.encode(["the film was great and superb"])
        with_docs = classifier_logits(net, enc)
        enc.docs = None
        without = classifier_logits(net, enc)
        assert torch.allclose(with_docs - without, net.doc((v - net.doc_mean) * net.doc_scale), atol=1e-5)
    result = cli("classify", "predict", "--model", "d2v-clf", input="the film was great and superb\nawful dull plot\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["pos", "neg"]
    assert evaluate_model(str(data), name="d2v-clf").accuracy > 0.9
    # another doc2vec model under the same name gives other vectors: loading says so
    other = doc2vec.train_model([Document("0", "other words entirely", "<x>")], Doc2VecConfig(**{**SMALL, "seed": 7}))
    doc2vec.save_model(other, "reviews-d2v")
    result = cli("classify", "predict", "--model", "d2v-clf", input="great\n")
    assert result.exit_code == 1 and "doc2vec model 'reviews-d2v' has changed" in result.stderr
    # a config that lies: refused in one line, before anything is allocated from it
    path = ModelStore().open("d2v-clf", ("classifier",)).path / "config.json"
    good = json.loads(path.read_text())
    for change, message in ((lambda c: c["config"]["features"].pop("doc2vec"), "names no doc2vec model"),
                            (lambda c: c["config"]["model"].update(doc_dim=10**12), "config.json says (members.0.)?doc[._a-z]* is \\(1000000000000"),
                            (lambda c: c["config"]["model"].update(doc_dim=-1), "doc_dim must be")):
        bad = json.loads(json.dumps(good))
        change(bad)
        path.write_text(json.dumps(bad))
        with pytest.raises(ModelError, match=message):
            saved.load("d2v-clf")


def test_doc2vec_features_leave_the_plain_model_as_it_was_and_check_the_spec(d2v):
    data, _ = d2v
    plain = train_model(str(data), opts=TrainOptions(**TINY), name="plain")
    again = train_model(str(data), opts=TrainOptions(**TINY), name="plain2")
    a, b = saved.load("plain").model.state_dict(), saved.load("plain2").model.state_dict()
    assert plain.valid_accuracy == again.valid_accuracy and all(torch.equal(a[k], b[k]) for k in a)
    assert not any(k.startswith("doc") for k in a)
    with pytest.raises(UsageError, match="--features takes doc2vec:MODEL"):
        TrainOptions(features="glove:x")
    with pytest.raises(ModelError):
        train_model(str(data), opts=TrainOptions(features="doc2vec:missing", **TINY), name="nope")
