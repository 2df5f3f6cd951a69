"""Text classification with recurrent networks: data formats, model, training,
prediction, metrics and cross-validation (`seqtool classify`).

    from seqtool.classify import TrainOptions, train_model, load_classifier, predict_texts
    train_model("train.tsv", opts=TrainOptions(seed=1), name="topics")
    clf = load_classifier("topics")
    [p.label for p in predict_texts(clf, ["what is the capital of peru ?"])]

Importing this package costs nothing: the names below load their module (and
torch) on first use, so the CLI can read TrainOptions' defaults without torch.
"""

from __future__ import annotations

from ..core.lazy import lazy_exports

_EXPORTS = {  # name -> (module, its name there)
    "TrainOptions": (".options", "TrainOptions"),
    "ReadOptions": (".data", "ReadOptions"),
    "read_dataset": (".data", "read_dataset"),
    "train_model": (".api", "train_model"),
    "evaluate_model": (".evaluation", "evaluate_model"),
    "cross_validate": (".evaluation", "cross_validate"),
    "predict_texts": (".predict", "predict_texts"),
    "load_classifier": (".store", "load"),
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
