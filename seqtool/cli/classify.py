"""seqtool classify: recurrent text classifiers (train, predict, eval, cv)."""

from __future__ import annotations

import functools
import inspect
from typing import Annotated, Callable, List, Optional

import typer

from ..classify.options import TrainOptions
from ..core import console
from .options import (DeviceOpt, ThreadsOpt, EncodingOpt, ErrorsOpt, Given, JsonOpt, ModelOpt, check_errors_mode, examples,
                      option_parameters, with_options)

app = typer.Typer(
    help="Text classification with recurrent networks: train, predict, eval, cross-validate.",
    epilog=examples("seqtool classify train reviews.tsv --name sentiment", "cat new.txt | seqtool classify predict - --prob", "seqtool classify eval test.tsv --model sentiment --json", "seqtool classify cv reviews.tsv --folds 10"),
    no_args_is_help=True,
)

DataArg = Annotated[str, typer.Argument(help="Labelled data: a file, '-' or a folder with one subfolder per label.")]
FormatOpt = Annotated[str, typer.Option("--format", help="auto, tsv, csv, jsonl, fasttext (__label__X text), "
                                        "space (LABEL text) or folder (DATA/LABEL/*.txt).")]
TextColOpt = Annotated[Optional[str], typer.Option("--text-col", help="Text column: a header name or a number "
                                                   "from 1 (TSV/CSV), or a JSON key.")]
LabelColOpt = Annotated[Optional[str], typer.Option("--label-col", help="Label column: a header name or a number "
                                                    "from 1 (TSV/CSV), or a JSON key.")]
ValidOpt = Annotated[Optional[str], typer.Option("--valid", help="Validation data for early stopping "
                                                 "(default: hold out --valid-split of DATA).")]
LabelSepOpt = Annotated[str, typer.Option("--label-sep", help="Splits a TSV/CSV/JSON/space label field into "
                                          "several labels (multi-label data: 'a,b'); '' never splits.")]
KOpt = Annotated[Optional[int], typer.Option("--k", "-k", help="P@K and R@K over the K most probable labels "
                                             "(fastText's test -k; -1: all).",
                                             show_default="1; a multi-label model: -1")]
ThresholdOpt = Annotated[Optional[float], typer.Option("--threshold", help="Keep only labels with probability "
                                                       ">= P (fastText's test/predict-prob threshold).",
                                                       show_default="0; a multi-label model: 0.5")]
ClassifierNameOpt = Annotated[Optional[str], typer.Option("--name", help="Name in the model store (default: from "
                                                          "DATA: reviews.tsv -> reviews-classifier).")]


def _reading_parameters(format: FormatOpt = "auto", text_col: TextColOpt = None, label_col: LabelColOpt = None,
                        label_sep: LabelSepOpt = ",", encoding: EncodingOpt = "utf-8",
                        errors: ErrorsOpt = "strict") -> None:
    """The options of reading labelled data, declared once for train, eval and cv."""


_READING = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(_reading_parameters, eval_str=True).parameters.values()]


def reading(command: Callable) -> Callable:
    """Give `command` the options of reading labelled data in place of its `read` parameter;
    it receives them as one ReadOptions."""
    own = inspect.signature(command, eval_str=True)
    names = [p.name for p in _READING]

    @functools.wraps(command)
    def wrapper(**kwargs):
        from ..classify.data import ReadOptions

        v = {name: kwargs.pop(name) for name in names}
        read = ReadOptions(format=v["format"], text_col=v["text_col"], label_col=v["label_col"],
                           encoding=v["encoding"], errors=check_errors_mode(v["errors"]),
                           label_sep=v["label_sep"] or None)
        return command(read=read, **kwargs)

    params = []
    for p in own.parameters.values():
        params.extend(_READING if p.name == "read" else [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)])
    params.sort(key=lambda p: p.default is not inspect.Parameter.empty)  # arguments first (a stable sort)
    wrapper.__signature__ = own.replace(parameters=params)
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper


def _recipe(**values) -> TrainOptions:
    """The training recipe as one TrainOptions; its parameters (shared by `train` and `cv`)
    are derived from TrainOptions' fields by with_options."""
    return TrainOptions(**values)


_recipe.__signature__ = inspect.Signature(option_parameters(TrainOptions))
recipe = with_options(TrainOptions)
cv_recipe = with_options(TrainOptions, exclude=("force",))  # cv stores nothing


@app.command(epilog=examples("seqtool classify train reviews.tsv --name sentiment", "seqtool classify train questions.ft --arch cnn --seed 1", "seqtool classify train reviews.tsv --arch rnn --valid dev.tsv", "seqtool classify train reviews.tsv --arch linear", "seqtool classify train tags.ft --max-time 10m --threads 2", "seqtool classify train complaints.tsv --features doc2vec:complaints-d2v"))
@recipe
@reading
def train(
    data: DataArg,
    given: Given = None,
    read: object = None,  # a ReadOptions, built by @reading
    valid: ValidOpt = None,
    name: ClassifierNameOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the training saved under --name: its recipe "
                                         "is kept; --epochs, --patience and --device may change.")] = False,
    publish_partial: Annotated[bool, typer.Option("--publish-partial", help="Let an unfinished run replace a "
                                                  "finished model of the same name.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Train a classifier and keep it in the model store.

    Early stopping picks the epoch count on a held-out split of DATA; the model is then
    retrained on all of DATA for that many epochs (--no-refit keeps the best held-out
    epoch instead; with --valid FILE that epoch is kept).

    Ctrl-C saves a checkpoint and exits with code 130; --resume continues from it.
    The defaults are a tested recipe for sentence classification.
    """
    from ..classify.api import train_model
    from ..classify.train import make_report

    from ..training.report import round_figures

    summary = train_model(data, read=read, opts=_recipe(**given.values), valid_path=valid, name=name,
                          resume=resume, report=make_report(json_lines=as_json), explicit=given.explicit,
                          publish_partial=publish_partial)
    if summary.rank:  # under torchrun only rank 0 reports
        return
    if as_json:
        console.emit_json(round_figures({"event": "done", **summary.to_dict()}))
    else:
        console.emit(f"{summary.model}\tvalid_{summary.valid_metric}\t{summary.valid_accuracy:.4f}\tbest_epoch\t"
                     f"{summary.best_epoch}\tepochs\t{summary.epochs}\tseconds\t{summary.seconds}")


@app.command(epilog=examples("cat new.txt | seqtool classify predict - --prob", "seqtool classify predict texts.txt --model sentiment --top-k 2 --json", "seqtool classify predict tags.txt --model tagger --prob --k -1 --threshold 0.5"))
def predict(
    inputs: Annotated[Optional[List[str]], typer.Argument(help="Files, or '-' for stdin (the default).")] = None,
    model: ModelOpt = None,
    prob: Annotated[bool, typer.Option("--prob", help="Print each label's probability after it.")] = False,
    top_k: Annotated[int, typer.Option("--top-k", "--k", "-k", help="Print the K most likely labels (-1: all).")] = 1,
    threshold: Annotated[Optional[float], typer.Option("--threshold", help="Only labels with probability >= P "
                                                       "(fastText's predict-prob; a line may get none).")] = None,
    device: DeviceOpt = "cpu",
    threads: ThreadsOpt = None,
    encoding: EncodingOpt = "utf-8",
    errors: ErrorsOpt = "strict",
    as_json: JsonOpt = False,
) -> None:
    """Label each input line: one output line per input line, in order, as lines arrive.

    Text output is the label (with --prob: label TAB probability; with --top-k K:
    K such columns); an empty input line gives an empty output line, and so does a
    line with no label reaching --threshold. `--prob --k K --threshold P` is fastText's
    `predict-prob MODEL - K P`; a multi-label model's probabilities are per label (sigmoids).
    """
    import sys

    from ..classify import store as saved
    from ..classify.predict import format_prediction, predict_stream
    from ..classify.topk import check_k
    from ..core.device import resolve_device
    from ..core.threads import apply_threads
    from ..core.sources import expand_inputs

    check_k(top_k, "--top-k")
    apply_threads(threads)
    device = resolve_device(device)
    clf = saved.load(model, device=device)
    sources = expand_inputs(inputs or ["-"])
    for chunk in predict_stream(clf, sources, top_k=top_k, device=device, encoding=encoding,
                                errors=check_errors_mode(errors), threshold=threshold):
        for pred in chunk:
            out = format_prediction(pred, prob=prob, top_k=top_k, as_json=as_json, threshold=threshold)
            console.emit_json(out) if as_json else console.emit(out)
        # Flushed per chunk so a pipeline sees each answer as soon as it exists.
        sys.stdout.flush()


@app.command("eval", epilog=examples("seqtool classify eval test.tsv --model sentiment", "seqtool classify eval test.ft --model topics --json", "seqtool classify eval test.ft --model topics --k 5", "seqtool classify eval tags.ft --model tagger --k -1 --threshold 0.3"))
@reading
def eval_(
    data: DataArg,
    model: ModelOpt = None,
    k: KOpt = None,
    threshold: ThresholdOpt = None,
    read: object = None,  # a ReadOptions, built by @reading
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accuracy, macro-F1, fastText's P@K and R@K, per-class precision/recall/F1 and the confusion
    matrix on labelled data (a multi-label model: subset accuracy, micro/macro-F1, P@K, R@K, per label).

    P@K and R@K are fastText's `test FILE K THRESHOLD`: over the K most probable labels with
    probability >= THRESHOLD, correct predicted labels / predicted labels and / gold labels.
    """
    from ..classify.api import evaluate_model
    from ..core.threads import apply_threads

    apply_threads(threads)
    report = evaluate_model(data, name=model, device=device, k=k, threshold=threshold, read=read)
    if as_json:
        console.emit_json(report.to_dict())
        return
    _print_report(report)


def _figure(value) -> str:
    return "nan" if value is None else f"{value:.4f}"  # fastText prints nan when nothing is predicted


def _print_report(report) -> None:
    console.emit(f"accuracy\t{report.accuracy:.4f}\nmacro_f1\t{report.macro_f1:.4f}")
    if getattr(report, "multi_label", False):
        console.emit(f"micro_f1\t{report.micro_f1:.4f}")
    console.emit(f"examples\t{report.total}")
    found = report.at_k
    if found is not None:
        k = "all" if found.k == -1 else found.k
        console.emit(f"P@{k}\t{_figure(found.precision)}\nR@{k}\t{_figure(found.recall)}")
    console.emit("")
    if getattr(report, "multi_label", False):
        console.emit_table(["label", "precision", "recall", "f1", "support", "predicted"],
                           [[c["label"], f"{c['precision']:.4f}", f"{c['recall']:.4f}", f"{c['f1']:.4f}",
                             c["support"], c["predicted"]] for c in report.per_class], title="per label")
        return
    console.emit_table(["label", "precision", "recall", "f1", "support"],
                       [[c["label"], f"{c['precision']:.4f}", f"{c['recall']:.4f}", f"{c['f1']:.4f}", c["support"]]
                        for c in report.per_class], title="per class")
    console.emit("")
    console.emit_table(["gold \\ predicted", *report.labels],
                       [[label, *row] for label, row in zip(report.labels, report.confusion)],
                       title="confusion (rows: gold, columns: predicted)")


@app.command(epilog=examples("seqtool classify cv reviews.tsv --folds 10", "seqtool classify cv mr.ft --folds 10 --max-folds 2 --json"))
@cv_recipe
@reading
def cv(
    data: DataArg,
    given: Given = None,
    folds: Annotated[int, typer.Option("--folds", help="Number of folds (stratified, seeded).")] = 10,
    max_folds: Annotated[Optional[int], typer.Option("--max-folds", help="Run only the first N folds of the "
                                                     "same split (a quicker estimate).")] = None,
    read: object = None,  # a ReadOptions, built by @reading
    valid: ValidOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """k-fold cross-validation (for data sets without a test split): one line per fold, then mean and std."""
    from ..classify.api import cross_validate
    from ..training.report import round_figures

    def on_fold(row: dict) -> None:
        if as_json:
            console.emit_json(round_figures({"event": "fold", **row}))
        else:
            console.emit(f"fold\t{row['fold']}\taccuracy\t{row['accuracy']:.4f}\tmacro_f1\t{row['macro_f1']:.4f}")

    summary = cross_validate(data, folds=folds, read=read, opts=_recipe(**given.values), valid_path=valid,
                             on_fold=on_fold, max_folds=max_folds)
    if as_json:
        console.emit_json(round_figures({"event": "done", **{k: v for k, v in summary.to_dict().items()
                                                             if k != "per_fold"}}))
    else:
        console.emit(f"mean\taccuracy\t{summary.accuracy_mean:.4f}\tstd\t{summary.accuracy_std:.4f}\t"
                     f"macro_f1\t{summary.macro_f1_mean:.4f}\tstd\t{summary.macro_f1_std:.4f}")
