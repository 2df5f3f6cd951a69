"""Language models in the store: model.safetensors + vocab.json + metrics.jsonl + config.json.

Opening a stored model (config, vocabulary) needs no torch, so `seqtool
sample` can start in a fraction of a second with the numpy engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ModelError
from ..core.store import ModelDraft, ModelInfo, ModelStore
from ..core.text import Tokenizer
from ..core.vocab import Vocab

KIND = "lm"
MODEL_FILE = "model.safetensors"
VOCAB_FILE = "vocab.json"
METRICS_FILE = "metrics.jsonl"
NO_MODEL_HINT = "train one with: seqtool train-lm CORPUS"


@dataclass
class StoredLM:
    info: ModelInfo
    model_config: dict  # LMConfig fields
    vocab: Vocab
    tokenizer: Tokenizer

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def level(self) -> str:
        return self.tokenizer.level

    @property
    def weights_path(self) -> Path:
        return self.info.file(MODEL_FILE)


def write_lm(draft: ModelDraft, tensors: dict, model_config: dict, vocab: Vocab, level: str, *,
             training: dict, metrics: dict, metrics_text: str = "") -> None:
    from ..core.tensors import save_tensors

    save_tensors(tensors, draft.path / MODEL_FILE, metadata={"format": "seqtool-lm"})
    draft.write_text(VOCAB_FILE, vocab.dumps())
    draft.write_text(METRICS_FILE, metrics_text)
    draft.config.update({"config": model_config, "tokenizer": Tokenizer(level=level).to_dict(),
                         "training": training, "metrics": metrics})


def open_lm(name: str | None, store: ModelStore | None = None) -> StoredLM:
    store = store or ModelStore()
    info = store.open(name, (KIND,), hint=NO_MODEL_HINT)
    return stored_from_info(info)


def stored_from_info(info: ModelInfo) -> StoredLM:
    origin = f"model '{info.name}'"
    cfg = info.config
    if not isinstance(cfg.get("config"), dict) or not isinstance(cfg.get("tokenizer"), dict):
        raise ModelError(f"{origin}: config.json lacks the model or tokenizer settings")
    try:
        tokenizer = Tokenizer.from_dict(cfg["tokenizer"])
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{origin}: invalid tokenizer settings ({exc})") from None
    path = info.file(VOCAB_FILE)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"{origin}: {VOCAB_FILE} is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{origin}: cannot read {VOCAB_FILE} ({exc})") from None
    vocab = Vocab.loads(text, origin=f"{origin}: {VOCAB_FILE}")
    if cfg["config"].get("vocab_size") != len(vocab):
        raise ModelError(f"{origin}: the vocabulary has {len(vocab)} entries but the model expects "
                         f"{cfg['config'].get('vocab_size')}")
    return StoredLM(info, dict(cfg["config"]), vocab, tokenizer)


_GATES = {"lstm": 4, "gru": 3, "rnn": 1, "rnn-relu": 1, "lstm-peephole": 4, "cifg": 3}


def expected_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """The tensor shapes an RNNLM with this config stores (tied weights stored once).
    Regularization leaves them alone: RNNLM stores per-layer and weight-dropped
    matrices under the fused stack's names."""
    V, E, H, L = (int(config[k]) for k in ("vocab_size", "emb", "hidden", "layers"))
    G = _GATES[config["cell"]] * H
    shapes = {"embed.weight": (V, E)}
    softmax = config.get("softmax", "full")  # configs written before the adaptive softmax have none
    if softmax == "adaptive":
        from ..layers import adaptive_shapes

        shapes.update(adaptive_shapes("softmax.", H, V, config["cutoffs"], bool(config.get("tie"))))
    elif softmax == "full":
        shapes["decoder.bias"] = (V,)
        if not config.get("tie"):
            shapes["decoder.weight"] = (V, H)
    else:
        raise ValueError(f"unknown softmax {softmax!r}")
    for k in range(L):
        shapes.update({f"rnn.weight_ih_l{k}": (G, E if k == 0 else H), f"rnn.weight_hh_l{k}": (G, H),
                       f"rnn.bias_ih_l{k}": (G,), f"rnn.bias_hh_l{k}": (G,)})
        if config["cell"] == "lstm-peephole":  # diagonal peepholes: one (H,) vector per gate
            shapes.update({f"rnn.peephole_{g}_l{k}": (H,) for g in "ifo"})
    return shapes


def check_weights(stored: StoredLM) -> None:
    """Refuse a model whose config.json disagrees with its weights file, before
    anything is allocated from the (possibly absurd) sizes in the config."""
    from ..core.tensors import check_safetensors

    origin = f"model '{stored.name}'"
    header = check_safetensors(stored.weights_path, origin)
    try:
        expected = expected_shapes(stored.model_config)
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"{origin}: config.json has invalid model sizes or cutoffs") from None
    found = {k: tuple(v["shape"]) for k, v in header.items() if k != "__metadata__"}
    for name, shape in expected.items():
        if found.get(name) != shape:
            raise ModelError(f"{origin}: config.json says {name} is {shape} but model.safetensors has "
                             f"{found.get(name, 'no such tensor')}; the model is corrupted")
    extra = sorted(set(found) - set(expected))
    if extra:
        raise ModelError(f"{origin}: model.safetensors has tensors the config does not describe "
                         f"({', '.join(extra[:3])}); the model is corrupted")


def load_torch_lm(stored: StoredLM, device: str = "cpu"):
    """The stored model as an RNNLM in eval mode on `device`."""
    from ..core.tensors import load_tensors
    from .model import LMConfig, RNNLM

    check_weights(stored)
    model = RNNLM(LMConfig.from_dict(stored.model_config))
    model.import_tensors(load_tensors(stored.weights_path, origin=f"model '{stored.name}'"),
                         origin=f"model '{stored.name}'")
    return model.to(device).eval()


@dataclass
class CheckpointLM:
    """The current weights of a run that train-lm checkpointed (finished or not), with what
    sampling needs of a StoredLM: name, level, vocab, tokenizer, model_config."""

    name: str
    path: Path
    model_config: dict
    vocab: Vocab
    tokenizer: Tokenizer
    model: object  # an RNNLM in eval mode, on the CPU
    position: dict  # epoch (1-based, in progress), batch, step

    @property
    def level(self) -> str:
        return self.tokenizer.level


def checkpoint_file(path: str | Path) -> Path | None:
    """The checkpoint a --model value names, if it names one: a checkpoint file, or a run
    folder holding one (train-lm's $SEQTOOL_HOME/checkpoints/NAME); else None."""
    from ..training.publish import CHECKPOINT_FILE

    path = Path(path).expanduser()
    if path.is_dir() and (path / CHECKPOINT_FILE).is_file():
        return path / CHECKPOINT_FILE
    if path.is_file() and path.suffix == ".pt":
        return path
    return None


def open_checkpoint(path: str | Path, name: str | None = None) -> CheckpointLM:
    """A train-lm checkpoint as a model (torch.load with weights_only=True: it runs no code)."""
    from ..training.checkpoint import load_checkpoint
    from .model import LMConfig, RNNLM
    from .options import TrainOptions

    path = Path(path)
    state = load_checkpoint(path.parent) if path.name == "checkpoint.pt" else _load_named(path)
    origin = f"{path}"
    try:
        opts = TrainOptions.from_dict(state["options"])
        vocab = Vocab.from_dict(state["vocab"])
        weights = state["task"]["model"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{origin}: not a train-lm checkpoint ({exc})") from None
    # train-lm stores the resolved sizes in the options, so this is the model it trained
    config = LMConfig(vocab_size=len(vocab), cell=opts.cell, emb=opts.emb or 200, hidden=opts.hidden,
                      layers=opts.layers, dropout=opts.dropout, tie=bool(opts.tie),
                      softmax=opts.softmax if opts.softmax != "auto" else "full", cutoffs=opts.cutoffs_tuple,
                      dropout_in=opts.dropout_in, dropout_hidden=opts.dropout_hidden,
                      dropout_out=opts.dropout_out, dropout_emb=opts.dropout_emb,
                      weight_drop=opts.weight_drop, alpha=opts.alpha, beta=opts.beta)
    model = RNNLM(config)
    try:
        model.load_state_dict(weights)
    except (RuntimeError, KeyError) as exc:
        raise ModelError(f"{origin}: the checkpoint's weights do not match its options ({str(exc)[:200]})") from None
    model.eval()
    position = state.get("position") or {"epoch": state.get("epoch", 0) + 1, "batch": state.get("batch", 0)}
    name = name or (path.parent.name if path.name == "checkpoint.pt" else path.stem)
    return CheckpointLM(name, path, config.to_dict(), vocab, Tokenizer(level=opts.level), model, dict(position))


def _load_named(path: Path) -> dict:
    """A checkpoint saved under another file name (copied aside): the same safe load."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise ModelError(f"{path}: checkpoint is corrupted or not a seqtool checkpoint ({type(exc).__name__})") from None
    from ..training.checkpoint import CHECKPOINT_VERSION

    if not isinstance(state, dict) or state.get("checkpoint_version") != CHECKPOINT_VERSION:
        raise ModelError(f"{path}: not a train-lm checkpoint of this seqtool version")
    return state
