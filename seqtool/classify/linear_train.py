"""Training `--arch linear` (classify/linear.py) through the shared loop.

Its epochs walk the regularization path: epoch k solves the convex problem of linear.py for
c = C_PATH[k-1] (1, 4, 16, 64, 256) with L-BFGS, starting from epoch k-1's optimum. So the
loop's early stopping on the validation accuracy chooses c as it chooses the rnn's epoch, the
refit's "k epochs" ends at the same c, and checkpoints, resume, --max-time and the epoch
records are the loop's, as for every model. L-BFGS runs in float64 on scipy's sparse matrices:
deterministic, on one thread.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import torch
from scipy import sparse
from scipy.optimize import minimize

from ..training.loop import EpochEnd, LoopState
from ..training.runtime import Distributed
from .build import build
from .data import Dataset
from .features import Encoded
from .multilabel import multi_hot
from .network import build_classifier
from .options import TrainOptions
from .trained import epoch_record
from .validation import accuracy, validation_targets

C_PATH = (1.0, 4.0, 16.0, 64.0, 256.0)  # the inverse L2 strengths the epochs walk
MAX_ITER = 500  # L-BFGS iterations per c; warm starts need far fewer
FTOL = 2.2e-9  # relative decrease of the objective at which to stop: scipy's default
GTOL = 1e-6  # on the mean-scaled gradient; sklearn's 1e-4 stops the warm-started walk far from each optimum


def linear_options(opts: TrainOptions) -> TrainOptions:
    """The loop's recipe for the linear model: at most one epoch per c of the path."""
    epochs = min(opts.epochs, len(C_PATH))
    return replace(opts, epochs=epochs, patience=min(opts.patience, epochs))


def idf_weights(ngrams: list[list[int]], num_ngrams: int) -> np.ndarray:
    """idf_j = ln((1 + N) / (1 + df_j)) + 1 over the texts' distinct n-grams (F,)."""
    flat = np.fromiter((i for g in ngrams for i in g), dtype=np.int64)
    df = np.bincount(flat, minlength=num_ngrams)
    return np.log((1.0 + len(ngrams)) / (1.0 + df)) + 1.0


def tfidf_matrix(ngrams: list[list[int]], idf: np.ndarray) -> sparse.csr_matrix:
    """The x of linear.py for each text, as a sparse (N, F) matrix."""
    counts = np.fromiter(map(len, ngrams), dtype=np.int64, count=len(ngrams))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = np.fromiter((i for g in ngrams for i in g), dtype=np.int64, count=int(indptr[-1]))
    values = idf[indices]
    rows = np.repeat(np.arange(len(ngrams)), counts)
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(ngrams)))
    values = values / norms[rows]
    return sparse.csr_matrix((values, indices, indptr), shape=(len(ngrams), len(idf)))


def solve(x: sparse.csr_matrix, y: np.ndarray, c: float, w: np.ndarray, b: np.ndarray,
          multi_label: bool, gtol: float = GTOL, ftol: float = FTOL) -> tuple[np.ndarray, np.ndarray, float]:
    """argmin of mean loss + ||W||^2 / (2 c N) from (w (C, F), b (C,)): (W, b, the mean loss).
    y: class ids (N,), or multi-hot targets (N, C) for one-vs-all (sigmoid loss summed over labels)."""
    n, f = x.shape
    k = len(b)
    xt = x.T.tocsr()
    target = y if multi_label else np.eye(k)[y]  # (N, C)

    def objective(wb: np.ndarray) -> tuple[float, np.ndarray]:
        weights, bias = wb[:k * f].reshape(k, f), wb[k * f:]
        z = x @ weights.T + bias  # (N, C)
        if multi_label:  # sum over labels of log(1 + e^-z) or log(1 + e^z)
            loss = np.logaddexp(0.0, np.where(target > 0, -z, z)).sum() / n
            residual = 1.0 / (1.0 + np.exp(-z)) - target
        else:
            z = z - z.max(1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
            loss = -(log_p * target).sum() / n
            residual = np.exp(log_p) - target
        residual /= n  # d mean loss / d z
        grad_w = (xt @ residual).T + weights / (c * n)
        value = loss + float((weights * weights).sum()) / (2.0 * c * n)
        return value, np.concatenate([grad_w.ravel(), residual.sum(0)])

    result = minimize(objective, np.concatenate([w.ravel(), b]), jac=True, method="L-BFGS-B",
                      options={"maxiter": MAX_ITER, "gtol": gtol, "ftol": ftol})
    weights, bias = result.x[:k * f].reshape(k, f), result.x[k * f:]
    penalty = float((weights * weights).sum()) / (2.0 * c * n)
    return weights, bias, float(result.fun) - penalty


class LinearTask:
    """The linear model's part of the training loop (seqtool.training.loop.Task): one batch
    per epoch, the solve for that epoch's c."""

    def __init__(self, train: Dataset, valid: Dataset | None, opts: TrainOptions, device: str, dist: Distributed,
                 member: str | None = None):
        self.opts, self.device, self.member = opts, device, member
        feat, labels, cfg, model, _ = build(train, opts)
        self.featurizer, self.labels, self.config, self.coverage = feat, labels, cfg, None
        enc: Encoded = feat.encode(train.texts)
        idf = idf_weights(enc.ngrams, cfg.num_ngrams)
        with torch.no_grad():
            model.idf.copy_(torch.from_numpy(idf))
        self.model = model.to(device)
        self.x = tfidf_matrix(enc.ngrams, idf)
        index = {label: i for i, label in enumerate(labels)}
        self.y = (multi_hot(train.gold(), index).numpy().astype(np.float64) if cfg.multi_label
                  else np.array([index[label] for label in train.labels], dtype=np.int64))
        self.enc_valid = feat.encode(valid.texts) if valid is not None else None
        self.y_valid = validation_targets(valid, labels, cfg.multi_label)
        self.epoch = 0

    def start_epoch(self, epoch: int, first_batch: int) -> int:
        self.epoch = epoch
        return 1

    def train_step(self, batch: int):
        c = C_PATH[min(self.epoch, len(C_PATH) - 1)]
        model = self.model
        w = model.table.weight.detach().cpu().double().numpy().T  # (C, F)
        b = model.bias.detach().cpu().double().numpy()
        w, b, loss = solve(self.x, self.y, c, w, b, self.config.multi_label)
        with torch.no_grad():
            model.table.weight.copy_(torch.from_numpy(w.T.copy()))
            model.bias.copy_(torch.from_numpy(b))
        return torch.tensor(loss), self.x.shape[0]

    def evaluate(self) -> float | None:
        if self.enc_valid is None:
            return None  # a refit: the last c of the walk is kept
        return accuracy(self.model, self.enc_valid, self.y_valid, self.device)

    def optimizers(self) -> list:
        return []

    def snapshot(self) -> dict:
        return copy.deepcopy(self.model.state_dict())

    def build_model(self) -> torch.nn.Module:
        return build_classifier(self.config)

    def load_snapshot(self, model: torch.nn.Module, weights: dict) -> None:
        model.load_state_dict(weights)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict()}

    def load_state_dict(self, state: dict, loop: LoopState) -> None:
        self.model.load_state_dict(state["model"])

    def record(self, end: EpochEnd) -> dict:
        return {**epoch_record(end, self.member), "c": C_PATH[min(end.epoch - 1, len(C_PATH) - 1)]}
