from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqtool.core.errors import ModelError
from seqtool.core.vocab import BOS, EOS, EOS_ID, PAD, UNK, UNK_ID, Vocab


def test_specials_have_fixed_ids_and_order_is_count_then_token():
    vocab = Vocab.build("b a c a b a d".split())
    assert vocab.itos == [UNK, EOS, "a", "b", "c", "d"]
    assert (vocab.id(UNK), vocab.id(EOS)) == (UNK_ID, EOS_ID) == (0, 1)


def test_min_freq_max_size_and_extra_specials():
    counts = Counter({"x": 5, "y": 3, "z": 3, "w": 1})
    vocab = Vocab.build(counts, min_freq=2, max_size=2, specials=(UNK, EOS, PAD, BOS))
    assert vocab.itos == [UNK, EOS, PAD, BOS, "x", "y"]
    assert vocab.pad_id == 2 and vocab.bos_id == 3
    assert vocab.counts == [0, 0, 0, 0, 5, 3]


def test_oov_maps_to_unk_and_decode_inverts_encode():
    vocab = Vocab.build(["a", "b"])
    assert vocab.encode(["a", "zzz", "b"]) == [2, UNK_ID, 3]
    assert vocab.decode([2, 3, 1]) == ["a", "b", EOS]


def test_corpus_tokens_equal_to_specials_are_not_duplicated():
    vocab = Vocab.build([UNK, "a", UNK])
    assert vocab.itos == [UNK, EOS, "a"]


def test_bad_json_is_a_model_error():
    with pytest.raises(ModelError):
        Vocab.loads("{not json")
    with pytest.raises(ModelError):
        Vocab.loads('{"format": "seqtool-vocab", "version": 99, "tokens": [], "specials": []}')
    with pytest.raises(ModelError):
        Vocab.loads('[1, 2]')


@given(st.lists(st.text(min_size=1), max_size=50))
def test_json_round_trip_is_exact_for_any_unicode(tokens):
    vocab = Vocab.build(tokens)
    again = Vocab.loads(vocab.dumps())
    assert again == vocab and again.counts == vocab.counts
    known = [t for t in tokens if t in vocab]
    assert again.decode(again.encode(known)) == known
