"""Labelled-data readers, format detection, splits and metrics (no torch needed)."""

from __future__ import annotations

import json

import pytest

from seqtool.classify.data import Dataset, ReadOptions, check_trainable, read_dataset
from seqtool.classify.metrics import evaluate
from seqtool.classify.split import holdout, kfold
from seqtool.core.errors import InputError, UsageError


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_csv_quoted_fields_with_tabs_newlines_and_quotes(tmp_path):
    path = write(tmp_path, "d.csv", 'label,text\npos,"a\tb\nsecond line, with comma"\nneg,"say ""hi"""\r\nneg,plain\n')
    data = read_dataset(path)
    assert data.labels == ["pos", "neg", "neg"]
    assert data.texts == ["a\tb\nsecond line, with comma", 'say "hi"', "plain"]


def test_csv_forced_format_and_named_columns_in_any_order(tmp_path):
    path = write(tmp_path, "d.txt", 'id,review,stars\n1,"good, really",5\n2,bad,1\n')
    data = read_dataset(path, ReadOptions(format="csv", text_col="review", label_col="stars"))
    assert data.texts == ["good, really", "bad"] and data.labels == ["5", "1"]


def test_tsv_without_header_by_column_number_and_quotes_are_text(tmp_path):
    path = write(tmp_path, "d.tsv", 'x\t"quoted" start\tA\ny\tsecond\tB\n')
    data = read_dataset(path, ReadOptions(text_col="2", label_col="3"))
    assert data.texts == ['"quoted" start', "second"] and data.labels == ["A", "B"]


def test_tsv_two_columns_without_header_guesses_the_label_column(tmp_path):
    lines = [f"{'pos' if i % 2 else 'neg'}\tsentence number {i}" for i in range(6)]
    data = read_dataset(write(tmp_path, "d.tsv", "\n".join(lines) + "\n"))
    assert data.labels[:2] == ["neg", "pos"] and data.texts[0] == "sentence number 0"


def test_jsonl_default_and_custom_keys(tmp_path):
    rows = [{"text": "fine", "label": 1}, {"text": "awful", "label": 0}]
    data = read_dataset(write(tmp_path, "d.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n"))
    assert data.texts == ["fine", "awful"] and data.labels == ["1", "0"]
    rows = [{"body": "x y", "tag": "a"}, {"body": "z", "tag": "b"}]
    data = read_dataset(write(tmp_path, "e.json", "\n".join(json.dumps(r) for r in rows)),
                        ReadOptions(text_col="body", label_col="tag"))
    assert data.labels == ["a", "b"]


def test_fasttext_and_autodetection_without_suffix(tmp_path):
    data = read_dataset(write(tmp_path, "train.txt", "__label__pos good film\n\n__label__neg  bad  film \n"))
    assert data.texts == ["good film", "bad film"] and data.labels == ["pos", "neg"]


@pytest.mark.parametrize("lines,labels", [
    ([f"{i % 2} sentence {i} ." for i in range(20)], {"0", "1"}),                      # SST-2
    ([f"{['NUM:dist', 'LOC:city', 'HUM:ind'][i % 3]} What is {i} ?" for i in range(30)],
     {"NUM:dist", "LOC:city", "HUM:ind"}),                                             # TREC
])
def test_label_first_lines_are_detected_when_unambiguous(tmp_path, lines, labels):
    data = read_dataset(write(tmp_path, "data", "\n".join(lines) + "\n"))
    assert set(data.labels) == labels and data.texts[0].startswith(("sentence", "What"))


def test_plain_sentences_are_not_mistaken_for_labelled_lines(tmp_path):
    path = write(tmp_path, "mr.pos", "\n".join(f"word{i} is a fine film" for i in range(30)) + "\n")
    with pytest.raises(InputError, match="cannot tell the data format.*--format"):
        read_dataset(path)


def test_folder_per_label(tmp_path):
    for label, texts in {"pos": ["great\nfilm"], "neg": ["dull", "slow"]}.items():
        (tmp_path / "data" / label).mkdir(parents=True)
        for i, text in enumerate(texts):
            (tmp_path / "data" / label / f"{i}.txt").write_text(text)
    data = read_dataset(str(tmp_path / "data"))
    assert sorted(zip(data.labels, data.texts)) == [("neg", "dull"), ("neg", "slow"), ("pos", "great film")]


def test_cp1252_input_with_encoding_option(tmp_path):
    path = write(tmp_path, "d.tsv", "pos\tcafé … ok\nneg\tbad\n", encoding="cp1252")
    with pytest.raises(InputError, match="invalid utf-8 at byte"):
        read_dataset(path)
    data = read_dataset(path, ReadOptions(encoding="cp1252"))
    assert data.texts[0] == "café … ok"


@pytest.mark.parametrize("name,text,opts,message", [
    ("a.txt", "__label__pos good\nno label here\n", ReadOptions(format="fasttext"), r"a.txt: line 2: no label"),
    ("b.tsv", "label\ttext\npos\tgood\n", ReadOptions(label_col="y"), r"label column 'y' does not exist"),
    ("c.tsv", "label\ttext\npos\tgood\nneg\t  \n", ReadOptions(), r"c.tsv: line 3: empty text"),
    ("d.tsv", "label\ttext\npos\tgood\nneg\n", ReadOptions(), r"d.tsv: line 3: no text"),
    ("e.jsonl", '{"text": "x"}\n', ReadOptions(), r"e.jsonl: line 1: no label field"),
    ("f.csv", 'label,text\npos,"open quote\n', ReadOptions(), r"f.csv: line \d+: malformed CSV"),
    ("g.tsv", "", ReadOptions(), r"g.tsv: no labelled examples"),
])
def test_errors_name_the_file_line_and_problem(tmp_path, name, text, opts, message):
    with pytest.raises(InputError, match=message):
        read_dataset(write(tmp_path, name, text), opts)


def test_unknown_format_and_single_class():
    with pytest.raises(UsageError, match="unknown format 'xml'"):
        ReadOptions(format="xml")
    with pytest.raises(InputError, match="only one class"):
        check_trainable(Dataset(["a", "b"], ["x", "x"], "d.tsv"))


def test_kfold_is_a_seeded_stratified_partition():
    labels = ["a"] * 30 + ["b"] * 12
    folds = kfold(labels, 6, seed=3)
    assert sorted(i for f in folds for i in f) == list(range(42))
    assert all(sum(labels[i] == "b" for i in f) == 2 for f in folds)
    assert folds == kfold(labels, 6, seed=3) and folds != kfold(labels, 6, seed=4)
    train, held = holdout(labels, 0.1, seed=0)
    assert sorted(train + held) == list(range(42)) and sum(labels[i] == "a" for i in held) == 3


def test_metrics_against_hand_computed_values():
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "c", "c"]
    report = evaluate(gold, pred, ["a", "b", "c"])
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.confusion == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    a, b, c = report.per_class
    assert (a["precision"], a["recall"]) == (1.0, pytest.approx(2 / 3)) and a["f1"] == pytest.approx(0.8)
    assert (b["precision"], b["recall"], b["f1"]) == (0.5, 0.5, 0.5)
    assert (c["precision"], c["recall"]) == (0.5, 1.0) and c["f1"] == pytest.approx(2 / 3)
    assert report.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    # a class never predicted and never seen counts as F1 0 in the macro average
    assert evaluate(["a", "b"], ["a", "a"], ["a", "b"]).per_class[1]["precision"] == 0.0


def test_jsonl_goes_through_the_shared_reader(tmp_path):
    # Invalid JSON is reported by core/io's one JSON-lines reader: FILE:LINE and the problem.
    path = write(tmp_path, "bad.jsonl", '{"text": "a", "label": "x"}\n\n{"text": oops}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:3: not valid JSON"):
        read_dataset(path)
    path = write(tmp_path, "list.jsonl", '{"text": "a", "label": "x"}\n[1, 2]\n')
    with pytest.raises(InputError, match=r"list.jsonl:2: expected a JSON object"):
        read_dataset(path)
