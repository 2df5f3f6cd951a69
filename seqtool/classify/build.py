"""From the training data and the options to a featurizer and an untrained classifier: the
vocabulary, the labels, the config (RNN or CNN), pretrained embeddings, the naive-Bayes n-gram
scale."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..core.text import Tokenizer
from .cnn import ConvConfig
from .network import build_classifier
from .data import Dataset, check_trainable
from .docfeatures import DocFeatures
from .features import Encoded, Featurizer
from .model import ClassifierConfig, RNNClassifier
from .multilabel import multi_label
from .options import TrainOptions

if TYPE_CHECKING:
    from ..vectors.embedding import Coverage


def build(train: Dataset, opts: TrainOptions) -> tuple[Featurizer, list[str], ClassifierConfig, RNNClassifier, Coverage | None]:
    check_trainable(train)
    tokenizer = Tokenizer.from_dict(opts.tokenizer)
    reads_words = opts.arch != "linear"  # the linear model reads n-grams only: no vectors, no doc2vec path
    doc = DocFeatures.open(opts.doc2vec_model) if opts.doc2vec_model and reads_words else None
    feat = Featurizer.build(train.texts, tokenizer, ngram_order=opts.ngrams, max_len=opts.max_len,
                            min_freq=opts.min_freq, doc=doc)
    labels = train.classes()
    vectors = None
    emb = opts.emb
    if opts.embeddings and reads_words:
        from ..vectors import load_vectors

        from ..vectors.embedding import vectors_dim

        vectors = load_vectors(opts.embeddings)
        emb = vectors_dim(vectors)
    common = dict(vocab_size=len(feat.vocab), num_classes=len(labels), num_ngrams=feat.num_ngrams,
                  pad_id=feat.vocab.pad_id, cell=opts.cell, bidirectional=opts.bidirectional, layers=opts.layers,
                  hidden=opts.hidden, emb=emb, dropout=opts.dropout, pooling=opts.pooling,
                  nb_scale=opts.nb_scale and feat.num_ngrams > 0, multi_label=multi_label(train, opts),
                  doc_dim=doc.dim if doc is not None else 0)
    if opts.arch == "rnn":
        cfg = ClassifierConfig(**common)
    else:
        cfg = ConvConfig(**common, arch=opts.arch, widths=opts.width_tuple, maps=opts.maps, max_norm=opts.max_norm,
                         pool=opts.pool)
    torch.manual_seed(opts.seed)
    model = build_classifier(cfg)
    coverage = None
    if vectors is not None:
        from ..vectors.embedding import fill_embedding

        with torch.no_grad():
            coverage = fill_embedding(model.embedding.weight, feat.vocab, vectors)  # a Coverage
            model.embedding.weight[cfg.pad_id].zero_()
        if opts.freeze:
            model.embedding.weight.requires_grad_(False)
    return feat, labels, cfg, model, coverage


def nb_feature_scale(enc: Encoded, targets: torch.Tensor, num_ngrams: int, num_classes: int,
                     alpha: float = 1.0) -> torch.Tensor:
    """How class-specific each n-gram is: the naive-Bayes log-count ratio |r| of NBSVM
    (Wang & Manning 2012), generalised to k classes as 2 * mean_c |log p(f|c) - mean log p(f|.)|.

    Used as the n-gram's feature value, so informative n-grams move fast under
    Adam and early stopping while frequent neutral ones ("the", "a film") stay quiet.
    """
    counts = torch.full((num_ngrams, num_classes), alpha)  # (F, C), binary counts + smoothing
    for grams, y in zip(enc.ngrams, targets.tolist()):
        if grams:
            counts[grams, y] += 1.0
    logp = (counts / counts.sum(0, keepdim=True)).log()
    centred = logp - logp.mean(1, keepdim=True)
    return 2.0 * centred.abs().mean(1)  # (F,)
