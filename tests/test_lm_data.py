"""Corpus reading, batchify and BPTT windows, options and presets."""

import numpy as np
import pytest
import torch

from seqtool.core.errors import InputError, UsageError
from seqtool.core.io import expand_inputs
from seqtool.core.vocab import EOS
from seqtool.lm.data import (batchify, bptt_starts, build_corpus, encode_files, get_window, shard,
                                   unigram_perplexity)
from seqtool.lm.options import PRESETS, default_model_name, resolve_options


def test_batchify_cuts_the_stream_into_columns_and_drops_the_tail():
    data = batchify(np.arange(26), 4)  # 26 // 4 = 6 rows; tokens 24, 25 dropped
    assert data.shape == (6, 4)
    assert data[:, 0].tolist() == [0, 1, 2, 3, 4, 5]
    assert data[:, 3].tolist() == [18, 19, 20, 21, 22, 23]
    assert data[0].tolist() == [0, 6, 12, 18]


def test_bptt_windows_cover_every_position_once_with_shifted_targets():
    data = batchify(torch.arange(40), 2)  # (20, 2)
    starts = bptt_starts(data.size(0), 7)
    assert starts == [0, 7, 14]
    inputs, targets = [], []
    for s in starts:
        x, y = get_window(data, s, 7)
        assert x.shape == y.shape
        assert torch.equal(y, x + 1)  # next token of the same column
        inputs.append(x)
        targets.append(y)
    assert [len(x) for x in inputs] == [7, 7, 5]  # the last window is short: 19 predictions per column
    column0 = torch.cat(inputs)[:, 0].tolist()
    assert column0 == list(range(19))
    assert torch.cat(targets)[:, 1].tolist() == list(range(21, 40))


def test_batchify_refuses_too_little_text():
    with pytest.raises(InputError, match="too few"):
        batchify(np.arange(5), 4)


def test_shards_are_equal_and_disjoint():
    ids = np.arange(11)
    a, b = shard(ids, 0, 2), shard(ids, 1, 2)
    assert a.tolist() == [0, 1, 2, 3, 4] and b.tolist() == [5, 6, 7, 8, 9]


def test_word_level_adds_eos_per_line_and_holds_out_the_tail(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\r\nb c\n\nb\n", encoding="utf-8")
    corpus = build_corpus(expand_inputs([str(path)]), "word")
    words = corpus.vocab.decode(corpus.train.tolist())
    assert words == ["a", "b", EOS, "b", "c", EOS, EOS, "b", EOS]
    assert corpus.vocab.itos[:3] == ["<UNK>", EOS, "b"]  # specials, then by count
    held = build_corpus(expand_inputs([str(path)]), "word", hold_out=0.25)
    assert held.held_out and held.train.size + held.valid.size == 9
    assert held.valid.size == 2


def test_held_out_words_are_not_in_the_vocabulary(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("x y x y x y x y\nzzz\n", encoding="utf-8")
    corpus = build_corpus(expand_inputs([str(path)]), "word", hold_out=0.2)
    assert "zzz" not in corpus.vocab
    assert 0 in corpus.valid.tolist()  # zzz -> <UNK>


def test_char_level_keeps_newlines(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("ab\nba\n", encoding="utf-8")
    corpus = build_corpus(expand_inputs([str(path)]), "char")
    assert "".join(corpus.vocab.decode(corpus.train.tolist())) == "ab\nba\n"
    assert encode_files([str(path)], corpus.vocab, "char").tolist() == corpus.train.tolist()


def test_min_freq_and_max_vocab(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a a a b b c\n", encoding="utf-8")
    sources = expand_inputs([str(path)])
    assert build_corpus(sources, "word", min_freq=2).vocab.itos[2:] == ["a", "b"]
    assert build_corpus(sources, "word", max_vocab=1).vocab.itos[2:] == ["a"]


def test_unigram_perplexity_of_a_uniform_stream():
    ids = np.array([2, 3, 4, 5] * 50)
    # add-one over a 6-symbol vocabulary: p = 51 / 206 for each seen symbol
    assert unigram_perplexity(ids, ids, 6) == pytest.approx(206 / 51)


def test_preset_fills_options_and_user_flags_win():
    opts = resolve_options({"corpus": ["x"], "lr": 5.0, "epochs": None}, "ptb-small")
    assert opts.optimizer == "sgd" and opts.lr == 5.0 and opts.epochs == PRESETS["ptb-small"]["epochs"]
    assert opts.tie is True and opts.emb == opts.hidden == 200
    with pytest.raises(UsageError, match="unknown --preset"):
        resolve_options({}, "nope")
    with pytest.raises(UsageError, match="--freeze needs"):
        resolve_options({"freeze": True})


def test_default_learning_rates_and_clipping_follow_the_optimizer():
    sgd = resolve_options({"optimizer": "sgd"})
    adam = resolve_options({})
    assert (sgd.lr_value, sgd.clip_value, sgd.anneal_value) == (20.0, 0.25, 4.0)
    assert (adam.lr_value, adam.clip_value, adam.anneal_value) == (2e-3, 1.0, 2.0)


@pytest.mark.parametrize("spec,name", [(["ptb.train.txt"], "ptb.train"), (["/a/b/My Book.txt.gz"], "My-Book"),
                                       (["-"], "lm"), ([], "lm")])
def test_default_model_name(spec, name):
    assert default_model_name(spec) == name
