"""doc2vec: document readers and their ids, training equal to gensim's own Doc2Vec, the stored
model (no pickle) inferring exactly as the trained one, repeatable inference, neighbours."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.core.errors import InputError, ModelError, UsageError
from seqtool.core.store import ModelStore
from seqtool.vectors import doc2vec
from seqtool.vectors.doc2vec import Doc2VecConfig, Document, infer, load_model, read_documents, save_model

# Two topics, so that inference has something to get right.
CATS = ["the cat purrs on the warm mat", "a kitten chases the cat toy", "the cat and the kitten sleep",
        "my cat purrs when the kitten sleeps", "the kitten and cat share a warm mat"]
MARKETS = ["the stock market fell on bond fears", "bond yields rise as stock prices fall",
           "investors sell stock and buy bonds", "the market rallies as bond yields fall",
           "stock prices and bond yields move the market"]
TEXTS = CATS * 4 + MARKETS * 4  # 40 documents, ids "1".."40"
SMALL = dict(vector_size=16, min_count=1, workers=1, epochs=20, sample=0)


def _docs(texts=TEXTS):
    return [Document(str(i), t, f"<test>:{i}") for i, t in enumerate(texts, 1)]


# ----------------------------------------------------------------------------- readers
def test_lines_are_documents_named_by_line_number(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text("first doc\n\n  \nfourth doc\r\nfifth\n", encoding="utf-8")
    docs = read_documents([str(path)])
    assert [(d.id, d.text) for d in docs] == [("1", "first doc"), ("4", "fourth doc"), ("5", "fifth")]
    assert docs[1].where == f"{path}:4"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["", "  ", "a b", "c", "\td e\t", "é"]), min_size=1, max_size=12))
def test_line_ids_are_the_numbers_of_the_non_blank_lines(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("lines") / "docs.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = [(str(n), line) for n, line in enumerate(lines, 1) if line.strip()]
    if not expected:
        with pytest.raises(UsageError):
            read_documents([str(path)])
    else:
        assert [(d.id, d.text) for d in read_documents([str(path)])] == expected


def test_several_line_files_prefix_their_ids(tmp_path):
    (tmp_path / "a.txt").write_text("x y\nz\n", encoding="utf-8")
    with gzip.open(tmp_path / "b.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write("w\n")
    docs = read_documents([str(tmp_path / "a.txt"), str(tmp_path / "b.txt.gz")])
    assert [d.id for d in docs] == [f"{tmp_path}/a.txt:1", f"{tmp_path}/a.txt:2", f"{tmp_path}/b.txt.gz:1"]


def test_a_folder_is_one_document_per_file_named_by_its_path_inside(tmp_path):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("second\nfile\n", encoding="utf-8")
    (folder / "a.txt").write_text("first file", encoding="utf-8")
    (folder / "sub" / "c.txt").write_text("nested", encoding="utf-8")
    (folder / ".hidden").write_text("skipped", encoding="utf-8")
    docs = read_documents([str(folder)])
    assert [(d.id, d.text) for d in docs] == [("a.txt", "first file"), ("b.txt", "second\nfile\n"),
                                              ("sub/c.txt", "nested")]
    # --layout lines on the same folder: every line of every file
    assert [d.id for d in read_documents([str(folder)], layout="lines")][0] == f"{folder}/a.txt:1"


def test_jsonl_ids_are_the_records_ids_else_line_numbers(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": "doc-a", "text": "alpha"}\n\n{"text": "no id"}\n{"id": 7, "text": "int id"}\n',
                    encoding="utf-8")
    docs = read_documents([str(path)])
    assert [(d.id, d.text) for d in docs] == [("doc-a", "alpha"), ("3", "no id"), ("7", "int id")]
    plain = tmp_path / "records.txt"  # not .jsonl: JSONL only when asked
    plain.write_text('{"id": "x", "text": "t"}\n', encoding="utf-8")
    assert read_documents([str(plain)])[0].text == '{"id": "x", "text": "t"}'
    assert read_documents([str(plain)], layout="jsonl")[0].id == "x"


@pytest.mark.parametrize("line, problem", [
    ('{"id": 1, "text": ', "line 2: not valid JSON"),
    ('{"id": 1, "body": "x"}', 'expected an object with a string "text"'),
    ('["text"]', 'expected a JSON object'),  # the shared reader's (core.io.iter_json_records) wording
    ('{"id": [1], "text": "x"}', '"id" must be a string or an integer'),
])
def test_bad_jsonl_records_name_file_and_line(tmp_path, line, problem):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 0, "text": "fine"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_documents([str(path)])
    assert str(err.value).startswith(f"{path}:2: ") and problem.split(": ")[-1] in str(err.value)


def test_repeated_ids_are_refused(tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"dup.jsonl:2: document id 'a' repeats the one at .*dup.jsonl:1"):
        read_documents([str(path)])


def test_an_empty_corpus_is_a_usage_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n \n\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"empty.txt: no documents"):
        read_documents([str(path)])
    with pytest.raises(UsageError, match="no documents to train on"):
        doc2vec.train_model([], Doc2VecConfig(**SMALL))
    with pytest.raises(UsageError, match="no words after tokenization"):
        doc2vec.train_model([Document("1", "!!! ...", "x")], Doc2VecConfig(tokenizer="gensim", **SMALL))
    with pytest.raises(UsageError, match="no word occurs at least 5 times"):
        doc2vec.train_model(_docs(["one two", "three"]), Doc2VecConfig(vector_size=8, workers=1))


def test_config_is_checked():
    with pytest.raises(UsageError, match="--negative 0 needs --hs"):
        Doc2VecConfig(negative=0).check()
    with pytest.raises(UsageError, match="unknown tokenizer 'spacy'"):
        Doc2VecConfig(tokenizer="spacy").check()
    with pytest.raises(UsageError, match="--vector-size must be at least 1"):
        Doc2VecConfig(vector_size=0).check()
    with pytest.raises(UsageError, match="unknown document layout"):
        read_documents(["x"], layout="csv")


def test_tokenizers():
    text = "It's A great film , wo n't forget !"
    assert Doc2VecConfig().tokenize()(text) == ["it's", "a", "great", "film", ",", "wo", "n't", "forget", "!"]
    # gensim's simple_preprocess: letters only, 2 to 15 characters, lower-cased
    assert Doc2VecConfig(tokenizer="gensim").tokenize()(text) == ["it", "great", "film", "wo", "forget"]


# ----------------------------------------------------------------------------- training
@pytest.mark.parametrize("dm", [True, False])
def test_training_equals_gensims_own_doc2vec(dm):
    from gensim.models import Doc2Vec
    from gensim.models.doc2vec import TaggedDocument

    config = Doc2VecConfig(dm=dm, **SMALL)
    ours = doc2vec.train_model(_docs(), config).gensim
    words = [TaggedDocument(t.lower().split(), [str(i)]) for i, t in enumerate(TEXTS, 1)]
    theirs = Doc2Vec(words, dm=int(dm), vector_size=16, min_count=1, workers=1, epochs=20, sample=0, seed=1)
    assert list(ours.dv.index_to_key) == list(theirs.dv.index_to_key) == [str(i) for i in range(1, 41)]
    assert np.array_equal(ours.dv.vectors, theirs.dv.vectors)
    assert np.array_equal(ours.wv.vectors, theirs.wv.vectors)
    assert np.array_equal(ours.syn1neg, theirs.syn1neg)
    assert not np.array_equal(ours.dv.vectors, doc2vec.train_model(_docs(), Doc2VecConfig(
        dm=dm, **{**SMALL, "seed": 2})).gensim.dv.vectors)  # the seed is used


# ----------------------------------------------------------------------------- store round trip
@pytest.mark.parametrize("options", [dict(dm=True), dict(dm=False), dict(dm=False, dbow_words=True),
                                     dict(hs=True, negative=0), dict(dm=True, hs=True, sample=1e-3)])
def test_inference_after_the_round_trip_equals_the_trained_model(options):
    model = doc2vec.train_model(_docs(), Doc2VecConfig(**{**SMALL, **options}))
    save_model(model, "d2v")
    loaded = load_model("d2v")
    assert loaded.config == model.config and loaded.ids == model.ids
    assert np.array_equal(loaded.gensim.dv.vectors, model.gensim.dv.vectors)
    new = ["the kitten purrs", "bond market fears", "words never seen before", CATS[0]]
    expected = infer(model, new)  # (4, 16)
    assert expected.shape == (4, 16) and np.abs(expected).sum() > 0
    assert np.array_equal(infer(loaded, new), expected)


def test_the_store_holds_safetensors_and_json_only():
    from seqtool.core.tensors import check_safetensors

    save_model(doc2vec.train_model(_docs(), Doc2VecConfig(**SMALL)), "d2v")
    info = ModelStore().open("d2v", ("vectors",))
    assert sorted(p.name for p in info.path.iterdir()) == [
        "config.json", "doc2vec-words.json", "doc2vec.safetensors", "norms.npy", "vectors.npy", "vocab.json"]
    header = check_safetensors(info.file("doc2vec.safetensors"))
    shapes = {k: (v["dtype"], v["shape"]) for k, v in header.items() if k != "__metadata__"}
    vocab = len(json.loads(info.file("doc2vec-words.json").read_text()))
    assert shapes == {"word_vectors": ("F32", [vocab, 16]), "syn1neg": ("F32", [vocab, 16]),
                      "word_counts": ("I64", [vocab]), "sample_int": ("U32", [vocab])}
    assert info.config["config"]["algo"] == "doc2vec" and info.config["config"]["count"] == 40
    # the document vectors are ordinary stored vectors, the ids their words
    from seqtool.vectors import load_vectors

    assert load_vectors("d2v").words == [str(i) for i in range(1, 41)]


def test_broken_or_wrong_models_are_refused():
    from seqtool.vectors.model import Vectors
    from seqtool.vectors.store import save_vectors

    save_vectors(Vectors(["a", "b"], np.eye(2, dtype=np.float32)), "words",
                 extra={"config": {"dim": 2, "count": 2, "algo": "word2vec"}})
    with pytest.raises(ModelError, match="vectors 'words': holds word2vec word vectors, not a doc2vec model"):
        load_model("words")
    save_model(doc2vec.train_model(_docs(), Doc2VecConfig(**SMALL)), "d2v")
    info = ModelStore().open("d2v", ("vectors",))
    words = info.file("doc2vec-words.json")
    words.write_text(json.dumps(json.loads(words.read_text())[:-1]))
    with pytest.raises(ModelError, match="do not agree"):
        load_model("d2v")
    words.unlink()
    with pytest.raises(ModelError, match="doc2vec-words.json is missing"):
        load_model("d2v")


# ----------------------------------------------------------------------------- inference
def test_inference_is_repeatable_and_independent_of_the_batch():
    model = doc2vec.train_model(_docs(), Doc2VecConfig(**SMALL))
    texts = ["the cat sleeps", "stock prices fall", "the cat sleeps"]
    first = infer(model, texts)
    assert np.array_equal(first, infer(model, texts))
    assert np.array_equal(first[0], first[2])  # same text, same vector, wherever it comes
    assert np.array_equal(first[1], infer(model, [texts[1]])[0])
    assert not np.array_equal(first[0], first[1])


def test_inference_is_gensims_infer_vector_made_repeatable():
    """With infer_vector's own starting vector (Python's hash of the text) and the model's
    RandomState reset to the seed, infer() computes exactly what gensim's infer_vector does."""
    for dm in (True, False):
        model = doc2vec.train_model(_docs(), Doc2VecConfig(dm=dm, **SMALL))
        text = "the kitten chases the bond market"
        model.gensim.random = np.random.RandomState(1)
        expected = model.gensim.infer_vector(text.split())
        assert np.array_equal(infer(model, [text], hashfxn=hash)[0], expected)


def test_inferred_vectors_find_the_right_topic():
    model = doc2vec.train_model(_docs(), Doc2VecConfig(dm=False, **{**SMALL, "epochs": 60}))
    unit = model.doc_vectors().matrix / model.doc_vectors().norms[:, None]  # (40, d)
    for text, topic in (("the kitten purrs on the mat", slice(0, 20)), ("bond yields and stock prices", slice(20, 40))):
        q = infer(model, [text])[0]
        sims = unit @ (q / np.linalg.norm(q))  # (40,)
        other = slice(20, 40) if topic.start == 0 else slice(0, 20)
        assert sims[topic].mean() > sims[other].mean() + 0.2


def test_features_are_the_inferred_vectors():
    model = doc2vec.train_model(_docs(), Doc2VecConfig(**SMALL))
    assert np.array_equal(doc2vec.features(model, TEXTS[:3]), infer(model, TEXTS[:3]))


def test_neighbors_are_document_ids_by_cosine():
    model = doc2vec.train_model(_docs(), Doc2VecConfig(**SMALL))
    found = doc2vec.neighbors(model, "1", top_n=5)
    matrix = model.gensim.dv.vectors.astype(np.float64)
    cos = matrix @ matrix[0] / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(matrix[0]))
    order = [str(i + 1) for i in np.argsort(-cos) if i != 0][:5]
    assert [m.word for m in found] == order
    assert [m.score for m in found] == pytest.approx([cos[int(i) - 1] for i in order], abs=1e-5)
    with pytest.raises(InputError, match="unknown word 'nope'"):
        doc2vec.neighbors(model, "nope")


# ----------------------------------------------------------------------------- end to end
def test_train_reads_stores_and_the_embed_cli_answers_on_document_ids(tmp_path, cli):
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS)),
                    encoding="utf-8")
    model, metrics = doc2vec.train([str(path)], Doc2VecConfig(**SMALL), name="complaints")
    assert metrics["documents"] == 40 and metrics["corpus_words"] == sum(len(t.split()) for t in TEXTS)
    assert np.array_equal(infer(load_model("complaints"), ["cat"]), infer(model, ["cat"]))
    result = cli("embed", "neighbors", "complaints", "d0", "--top", "3")
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [r[:2] for r in rows] == [["d0", m.word] for m in doc2vec.neighbors(model, "d0", top_n=3)]


def test_embed_train_doc2vec_and_infer_through_the_cli(cli, tmp_path):
    docs = tmp_path / "docs.txt"
    words = ["stock", "market", "shares", "fell", "cat", "dog", "pet", "food", "game", "team", "won", "goal"]
    docs.write_text("".join(" ".join(words[(i + k) % 12] for k in range(8)) + "\n" for i in range(60)))
    out = cli("embed", "train", str(docs), "--algo", "doc2vec", "--dbow", "--dim", "16", "--min-count", "1",
              "--workers", "1", "--epochs", "3", "--json")
    assert out.exit_code == 0, out.stderr
    assert "stored the document vectors as 'docs-doc2vec16'" in out.stderr
    assert '"documents": 60' in out.stdout
    inferred = cli("embed", "infer", "docs-doc2vec16", "-", input="stock market shares\ncat dog pet\n")
    rows = [line.split("\t") for line in inferred.stdout.splitlines()]
    assert inferred.exit_code == 0 and [r[0] for r in rows] == ["1", "2"] and all(len(r) == 17 for r in rows)
    again = cli("embed", "infer", "docs-doc2vec16", "-", input="stock market shares\ncat dog pet\n")
    assert again.stdout == inferred.stdout  # repeatable
    near = cli("embed", "neighbors", "docs-doc2vec16", "1", "--top", "2")
    assert near.exit_code == 0 and len(near.stdout.splitlines()) == 2
