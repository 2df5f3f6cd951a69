"""Kim's CNN and the CNN-RNN classifiers (seqtool/classify/cnn.py): tiny sizes, one thread."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest
import torch

from seqtool.classify.cnn import CNNClassifier, CNNRNNClassifier, ConvConfig, config_from_dict, max_norm_
from seqtool.classify.network import build_classifier
from seqtool.classify.features import Encoded, Featurizer, collate
from seqtool.classify.model import ClassifierConfig, RNNClassifier
from seqtool.core.errors import UsageError
from seqtool.core.errors import ModelError
from seqtool.core.tensors import check_module_shapes, check_safetensors, load_tensors, save_tensors
from seqtool.core.text import Tokenizer

torch.set_num_threads(1)

ARCHS = ["cnn", "cnn-rnn"]
SEQS = [[5, 6, 7, 8, 9, 10, 11], [3], [12, 13, 4], [20, 21]]  # lengths 7, 1, 3, 2
GRAMS = [[1, 2], [], [3], [4, 5, 6]]


def tiny(arch: str = "cnn", **kw) -> ConvConfig:
    base = dict(vocab_size=30, num_classes=3, num_ngrams=0, arch=arch, emb=6, maps=4, hidden=5, dropout=0.0)
    return ConvConfig(**{**base, **kw})


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("widths", [(1,), (2,), (3, 4, 5), (7,)])
def test_every_width_gives_logits_for_inputs_shorter_than_the_widest_filter(arch, widths):
    torch.manual_seed(0)
    model = build_classifier(tiny(arch, widths=widths, maps=3)).eval()
    for length in (1, 2, 4, 9):  # 1 and 2 are shorter than every filter of (3, 4, 5) and (7,)
        tokens, lengths = torch.randint(3, 30, (2, length)), torch.tensor([length, 1])
        logits = model(tokens, lengths)
        assert logits.shape == (2, 3) and torch.isfinite(logits).all()
    if arch == "cnn":
        assert model.features(tokens, lengths).shape == (2, 3 * len(widths))


def test_kims_default_is_three_widths_of_100_maps():
    model = CNNClassifier(ConvConfig(vocab_size=10, num_classes=2))
    assert [c.kernel_size[0] for c in model.convs] == [3, 4, 5]
    assert [c.out_channels for c in model.convs] == [100, 100, 100]
    assert model.out.in_features == 300 and model.cfg.dropout == 0.5 and model.cfg.max_norm == 3.0
    assert model.ngram is None  # no n-gram features: the pure CNN-rand


def test_max_over_time_picks_the_largest_window_of_the_sentence_only():
    # One feature map of width 2 over 1-d word vectors: c_j = relu(x_{j-1} + x_j + 1).
    model = CNNClassifier(tiny("cnn", emb=1, widths=(2,), maps=1)).eval()
    with torch.no_grad():
        model.embedding.weight.zero_()
        model.embedding.weight[3:7, 0] = torch.tensor([1.0, 2.0, -3.0, 0.5])  # ids 3, 4, 5, 6
        model.convs[0].weight.fill_(1.0)
        model.convs[0].bias.fill_(1.0)
    tokens, lengths, _, _ = collate(Encoded([[3, 4, 5, 6], [5], [6]], [[], [], []]), range(3), 2)
    # [3 4 5 6] padded 0 x 0: sums 1, 3, -1, -2.5, 0.5 -> max relu(3 + 1) = 4
    # [5]: windows (0, -3), (-3, 0) -> relu(-2) = 0; its all-padding windows (relu(1) = 1) are left out
    # [6]: windows (0, .5), (.5, 0) -> 1.5
    assert model.features(tokens, lengths)[:, 0].tolist() == [4.0, 0.0, 1.5]


def test_max_norm_clips_each_row_to_the_bound_and_keeps_its_direction():
    weight = torch.tensor([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0], [0.0, -6.0]])
    max_norm_(weight, 3.0)
    torch.testing.assert_close(weight, torch.tensor([[1.8, 2.4], [0.3, 0.4], [0.0, 0.0], [0.0, -3.0]]))


@pytest.mark.parametrize("arch", ARCHS)
def test_apply_constraints_bounds_the_output_layer_only(arch):
    torch.manual_seed(0)
    model = build_classifier(tiny(arch))
    with torch.no_grad():
        model.out.weight.mul_(100.0)
    before = {n: p.clone() for n, p in model.named_parameters()}
    model.apply_constraints()
    norms = model.out.weight.norm(dim=1)
    torch.testing.assert_close(norms, torch.full_like(norms, 3.0))
    for name, p in model.named_parameters():
        assert name == "out.weight" or torch.equal(p, before[name]), name
    off = build_classifier(tiny(arch, max_norm=0.0))
    with torch.no_grad():
        off.out.weight.fill_(10.0)
    off.apply_constraints()
    assert (off.out.weight == 10.0).all()


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("pooling", ["max", "mean", "last"])
def test_a_batch_gives_the_same_logits_as_each_sequence_alone(arch, pooling):
    torch.manual_seed(0)
    cfg = tiny(arch, num_ngrams=20, pooling=pooling, pool=2)
    model = build_classifier(cfg).eval()
    torch.nn.init.normal_(model.ngram.weight)
    enc = Encoded(SEQS, GRAMS)
    batched = model(*collate(enc, range(4), cfg.pad_id))
    for i in range(4):
        torch.testing.assert_close(model(*collate(enc, [i], cfg.pad_id))[0], batched[i], rtol=1e-5, atol=1e-6)
    if arch == "cnn-rnn":  # the packed recurrence (used on CUDA) agrees
        torch.testing.assert_close(model(*collate(enc, range(4), cfg.pad_id), packed=True), batched,
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("arch", ARCHS)
def test_the_ngram_path_adds_its_bag_to_the_logits(arch):
    torch.manual_seed(0)
    model = build_classifier(tiny(arch, num_ngrams=8)).eval()
    tokens, lengths, flat, offsets = collate(Encoded(SEQS, [[1, 2], [], [3], [1]]), range(4), 2)
    assert torch.equal(model(tokens, lengths, flat, offsets), model(tokens, lengths))  # starts at zero
    with torch.no_grad():
        model.ngram.weight.copy_(torch.arange(24.0).view(8, 3))
    bag = torch.tensor([[9.0, 11.0, 13.0], [0.0, 0.0, 0.0], [9.0, 10.0, 11.0], [3.0, 4.0, 5.0]])
    torch.testing.assert_close(model(tokens, lengths, flat, offsets) - model(tokens, lengths), bag)


def test_cnn_rnn_recurs_over_the_pooled_steps():
    torch.manual_seed(0)
    model = CNNRNNClassifier(tiny("cnn-rnn", pool=3, bidirectional=False, pooling="last")).eval()
    seen = []
    model._run_padded = lambda x, steps: seen.append((tuple(x.shape), steps.tolist())) or torch.zeros(
        x.size(0), x.size(1), 5)
    model(*collate(Encoded(SEQS, GRAMS), range(4), 2)[:2])
    assert seen == [((4, 3, 12), [3, 1, 1, 1])]  # T = 7 -> 3 steps; lengths 7, 1, 3, 2 -> 3, 1, 1, 1


# ----------------------------------------------------------------------------- training
POS = "good great excellent fine nice wonderful".split()
NEG = "bad awful terrible poor horrible nasty".split()
FILLER = "the movie was plot actors and it really quite".split()


def separable(n: int, seed: int) -> tuple[list[str], list[int]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        words = rng.sample(FILLER, rng.randint(0, 5)) + [rng.choice(POS if i % 2 == 0 else NEG)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(i % 2)
    return texts, labels


def train_tiny(arch: str, seed: int, epochs: int = 15):
    """A plain loop: Adam, then the max-norm after every step, as the trainer runs it."""
    texts, labels = separable(64, seed=1)
    feat = Featurizer.build(texts, Tokenizer(), ngram_order=0, max_len=50)
    cfg = tiny(arch, vocab_size=len(feat.vocab), num_classes=2, pad_id=feat.vocab.pad_id, dropout=0.5, maps=8)
    torch.manual_seed(seed)
    model = build_classifier(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    enc, y = feat.encode(texts), torch.tensor(labels)
    for _ in range(epochs):
        model.train()
        for start in range(0, 64, 8):
            idx = list(range(start, start + 8))
            loss = torch.nn.functional.cross_entropy(model(*collate(enc, idx, cfg.pad_id)[:2]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            model.apply_constraints()
    return model.eval(), feat


@pytest.mark.parametrize("arch", ARCHS)
def test_trains_to_full_accuracy_on_a_tiny_separable_set(arch):
    model, feat = train_tiny(arch, seed=0, epochs=25)
    assert model.out.weight.norm(dim=1).max() <= 3.0 + 1e-5
    accuracy = []
    for texts, labels in (separable(64, seed=1), separable(40, seed=2)):  # trained on, and unseen
        predicted = model(*collate(feat.encode(texts), range(len(texts)), model.cfg.pad_id)[:2]).argmax(1)
        accuracy.append(float((predicted == torch.tensor(labels)).float().mean()))
    assert accuracy[0] == 1.0
    assert accuracy[1] >= 0.9  # 64 examples of 15 words: it generalises, though not always perfectly


@pytest.mark.parametrize("arch", ARCHS)
def test_the_same_seed_trains_the_same_weights(arch):
    a, b = train_tiny(arch, seed=4, epochs=2)[0], train_tiny(arch, seed=4, epochs=2)[0]
    c = train_tiny(arch, seed=5, epochs=2)[0]
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name
    assert not torch.equal(a.out.weight, c.out.weight)


# ----------------------------------------------------------------------------- saving
@pytest.mark.parametrize("arch", ARCHS)
def test_config_and_weights_round_trip_through_json_and_safetensors(arch, tmp_path):
    torch.manual_seed(0)
    cfg = tiny(arch, num_ngrams=10, nb_scale=True, widths=(2, 3))
    model = build_classifier(cfg).eval()
    with torch.no_grad():
        model.ngram.weight.normal_()
        model.ngram_scale.uniform_(0.5, 2.0)
    save_tensors({k: v.detach() for k, v in model.state_dict().items()}, tmp_path / "model.safetensors")
    cfg2 = config_from_dict(json.loads(json.dumps(cfg.to_dict())))  # what config.json gives back
    assert cfg2 == cfg and type(cfg2) is ConvConfig
    header = check_safetensors(tmp_path / "model.safetensors", "m")
    check_module_shapes(lambda: build_classifier(cfg2), header, "m")  # what the store checks before loading
    with pytest.raises(ModelError, match="the model is corrupted"):
        check_module_shapes(lambda: build_classifier(replace(cfg2, maps=5)), header, "m")
    torch.manual_seed(1)  # other random weights, all overwritten
    loaded = build_classifier(cfg2).eval()
    loaded.load_state_dict(load_tensors(tmp_path / "model.safetensors"))
    assert type(loaded) is type(model)
    batch = collate(Encoded(SEQS, [[1], [], [2, 3], [9]]), range(4), cfg.pad_id)
    assert torch.equal(loaded(*batch), model(*batch))


def test_configs_saved_before_the_cnns_still_load_as_rnns():
    old = ClassifierConfig(vocab_size=20, num_classes=2, hidden=4, emb=4).to_dict()
    assert "arch" not in old
    cfg = config_from_dict(old)
    assert type(cfg) is ClassifierConfig and type(build_classifier(cfg)) is RNNClassifier
    assert type(config_from_dict({**old, "arch": "rnn"})) is ClassifierConfig
    for corrupted in ({**old, "arch": "lenet"}, {**old, "cell": "tree"}, {**old, "arch": "cnn", "maps": 0}):
        with pytest.raises(ValueError):  # the store turns it into "config.json is not a valid classifier config"
            config_from_dict(corrupted)


def test_bad_conv_options_are_usage_errors():
    for bad in ({"arch": "lenet"}, {"widths": ()}, {"widths": (0, 3)}, {"maps": 0}, {"pool": 0},
                {"max_norm": -1.0}):
        with pytest.raises(UsageError):
            tiny(**{"arch": "cnn", **bad})


# ----------------------------------------------------------------------------- CPU inference path
@pytest.mark.parametrize("widths", [(1,), (3, 4, 5), (2, 6)])
def test_the_cpu_inference_path_gives_the_modules_logits_in_input_order(widths):
    from seqtool.classify import infer_cnn

    torch.manual_seed(0)
    model = CNNClassifier(tiny(widths=widths, num_ngrams=10, nb_scale=True)).eval()
    with torch.no_grad():
        model.ngram.weight.normal_()
        model.ngram_scale.uniform_(0.5, 2.0)
        # Map 0 of every width is negative on every window: a max that read the windows of
        # padding (all zero) would see 0 there.
        model.embedding.weight.abs_()
        for conv in model.convs:
            conv.weight[0].copy_(-conv.weight[0].abs())
            conv.bias.fill_(1.0)
    rng = random.Random(0)
    seqs = [[rng.randrange(3, 30) for _ in range(rng.randint(1, 12))] for _ in range(37)]
    grams = [sorted(rng.sample(range(10), rng.randint(0, 3))) for _ in range(37)]
    enc = Encoded(seqs, grams)
    expected = model(*collate(enc, range(37), model.cfg.pad_id))
    assert infer_cnn.supported(model, "cpu") and not infer_cnn.supported(model.train(), "cpu")
    model.eval()
    infer_cnn.BATCH, batch = 8, infer_cnn.BATCH  # several length-sorted batches
    try:
        torch.testing.assert_close(infer_cnn.predict_logits(model, enc), expected, rtol=1e-5, atol=1e-5)
    finally:
        infer_cnn.BATCH = batch
    assert not infer_cnn.supported(CNNRNNClassifier(tiny("cnn-rnn")).eval(), "cpu")


@pytest.mark.parametrize("arch", ["cnn", "cnn-rnn"])
def test_classify_train_arch_through_the_cli_then_predict(cli, tmp_path, arch):
    """--arch reaches the model: the stored config says so, and predict loads and uses it."""
    import json

    from seqtool.core.store import ModelStore

    data = tmp_path / "toy.tsv"
    data.write_text("".join(f"pos\tgreat fine film {i}\nneg\tdull bad plot {i}\n" for i in range(30)))
    result = cli("classify", "train", str(data), "--arch", arch, "--epochs", "3", "--name", "c", "--seed", "1")
    assert result.exit_code == 0, result.stderr
    config = json.loads((ModelStore().open("c", kinds=("classifier",)).path / "config.json").read_text())
    assert config["config"]["model"]["arch"] == arch
    out = cli("classify", "predict", "-", "--model", "c", input="great fine film\ndull bad plot\n")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.split() == ["pos", "neg"]
