"""A classifier in the model store (kind "classifier").

Files: model.safetensors (weights), vocab.json (tokens), ngrams.json (the n-gram
features, when the linear path is on), labels.json, and config.json with the
model config, tokenizer, training data checksums and metrics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch

from ..core.errors import ModelError
from ..core.store import ModelInfo, ModelStore
from ..core.tensors import check_module_shapes, check_safetensors, load_tensors, save_tensors
from ..core.text import Tokenizer
from ..core.vocab import Vocab
from .features import Featurizer
from .cnn import config_from_dict
from .network import build_classifier
from .model import RNNClassifier

KIND = "classifier"
HINT = "train one with: seqtool classify train DATA"


@dataclass
class Classifier:
    """A loaded classifier: everything needed to turn text into label probabilities."""

    name: str
    model: RNNClassifier
    featurizer: Featurizer
    labels: list[str]
    info: dict


def save(store: ModelStore, name: str, model: RNNClassifier, featurizer: Featurizer, labels: list[str],
         *, training: dict, metrics: dict, set_default: bool = True, extra_files: dict | None = None,
         force: bool = False) -> None:
    with store.writer(name, KIND, set_default=set_default, force=force) as draft:
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        save_tensors(state, draft.path / "model.safetensors")
        draft.write_text("vocab.json", featurizer.vocab.dumps())
        if featurizer.ngram_vocab is not None:
            draft.write_text("ngrams.json", featurizer.ngram_vocab.dumps())
        draft.write_json("labels.json", labels)
        for relative, text in (extra_files or {}).items():
            draft.write_text(relative, text)
        draft.config.update({
            "config": {"model": model.cfg.to_dict(), "features": featurizer.to_config()},
            "tokenizer": featurizer.tokenizer.to_dict(),
            "training": training,
            "metrics": metrics,
        })


def load(name: str | None = None, store: ModelStore | None = None, device: str = "cpu") -> Classifier:
    store = store or ModelStore()
    info = store.open(name, (KIND,), hint=HINT)
    return load_info(info, device)


def _read_json(info: ModelInfo, relative: str):
    path = info.file(relative)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"model '{info.name}': {relative} is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelError(f"model '{info.name}': {relative} is corrupted") from None


def load_info(info: ModelInfo, device: str = "cpu") -> Classifier:
    origin = f"model '{info.name}'"
    try:
        conf = info.config["config"]
        cfg = config_from_dict(conf["model"])
        feats = conf["features"]
        tokenizer = Tokenizer.from_dict(info.config["tokenizer"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{origin}: config.json is not a valid classifier config ({exc})") from None
    vocab = Vocab.from_dict(_read_json(info, "vocab.json"), origin=f"{origin} vocab.json")
    ngram_vocab = None
    if cfg.num_ngrams:
        ngram_vocab = Vocab.from_dict(_read_json(info, "ngrams.json"), origin=f"{origin} ngrams.json")
    labels = _read_json(info, "labels.json")
    if (not isinstance(labels, list) or len(labels) != cfg.num_classes
            or not all(isinstance(x, str) for x in labels)):
        raise ModelError(f"{origin}: labels.json does not match the model ({cfg.num_classes} classes)")
    if len(vocab) != cfg.vocab_size or (ngram_vocab is not None and len(ngram_vocab) != cfg.num_ngrams):
        raise ModelError(f"{origin}: vocabulary size does not match the weights")
    header = check_safetensors(info.file("model.safetensors"), origin)
    check_module_shapes(lambda: build_classifier(cfg), header, origin)
    model = build_classifier(cfg)
    state = load_tensors(info.file("model.safetensors"), origin=origin)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelError(f"{origin}: weights do not match the config ({str(exc).splitlines()[0]})") from None
    model.to(device).eval()
    doc = None
    if cfg.doc_dim:
        from .docfeatures import DocFeatures

        try:
            doc = DocFeatures.from_config(feats["doc2vec"])
        except (KeyError, TypeError, ValueError):
            raise ModelError(f"{origin}: config.json names no doc2vec model for its document-vector path") from None
    featurizer = Featurizer(tokenizer, vocab, ngram_vocab, int(feats.get("ngram_order", 0)),
                            int(feats.get("max_len", 400)), doc)
    return Classifier(info.name, model, featurizer, labels, info.config)


def to_device(clf: Classifier, device: str) -> Classifier:
    clf.model.to(torch.device(device))
    return clf
