"""The one way to a classifier's logits for a set of encoded texts, in training (validation)
and prediction alike: the network's (seqtool.classify.infer, with its fast CPU paths) plus
the doc2vec path's (seqtool.classify.docfeatures), which the fast paths do not know about; for
rnn+cnn, the members' combined (seqtool.classify.ensemble)."""

from __future__ import annotations

import torch

from .docfeatures import doc_logits
from .ensemble import EnsembleClassifier
from .features import Encoded
from .infer import predict_logits


@torch.no_grad()
def classifier_logits(model: torch.nn.Module, enc: Encoded, device: str = "cpu") -> torch.Tensor:
    """Logits (N, C) in input order; an ensemble's from each member's own (fast) path."""
    if isinstance(model, EnsembleClassifier):
        return model.combine(torch.stack([classifier_logits(m, enc, device) for m in model.members]))
    out = predict_logits(model, enc, device)
    extra = doc_logits(model, enc.docs)
    return out if extra is None else out + extra.float().cpu()
