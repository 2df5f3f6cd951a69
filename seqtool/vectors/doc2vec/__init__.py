"""Document vectors: gensim's Doc2Vec (Le & Mikolov 2014), stored without pickle.

PV-DM (dm=1) predicts a word from its context words plus a paragraph vector D[doc]:
    h = mean(W[w_{t-k}], ..., W[w_{t+k}], D[doc])          # (d,)
    loss = -log s(h . U[w_t]) - sum_{n ~ P_neg} log s(-h . U[n])
PV-DBOW (dm=0) predicts each word of the document from D[doc] alone (h = D[doc]).
W are the word vectors, U the output weights (gensim's syn1neg, or syn1 with hierarchical
softmax). Inference for a new document freezes W and U and runs the same gradient steps on a
fresh D row only, so a stored model must keep W, U, the vocabulary (its counts give the negative
sampling table and the down-sampling thresholds) and the config, not just the document vectors.

Stored as kind "vectors" (seqtool.vectors.store's layout: the document vectors are the rows,
the document ids the "words", so `embed neighbors MODEL DOC_ID` works on them as on words),
plus doc2vec.safetensors and doc2vec-words.json for inference.

The package, by concern: config (Doc2VecConfig), documents (reading them), model (training and
inference), store (save, load, and train = read + train + save under the store lock).

Documents are one per line (id: the line number), one per file of a folder (id: the path inside
the folder, the file name when it is flat) or JSONL {"id", "text"} records (id: "id", else the
line number). Tokens: seqtool's Tokenizer (whitespace, lower-cased, by default), the tokenizer of
the other seqtool vectors, which keeps punctuation and one-letter words ("!", "n't", "a") that
gensim's simple_preprocess drops; "gensim" selects simple_preprocess, the tokenizer of gensim's
tutorials. On SST-2 (benchmarks/bench_doc2vec.py, doc2vec + logistic regression, seed 1) the two
are within half a point, whitespace ahead: 56.78 vs 56.56 % with gensim's defaults, 73.48 vs
73.04 % with PV-DBOW + word training, 40 epochs; so the default follows the rest of seqtool.
"""

from .config import TOKENIZERS, Doc2VecConfig
from .documents import LAYOUTS, Document, read_documents
from .model import DocModel, features, infer, neighbors, tagged, train_model
from .store import WEIGHTS_FILE, WORDS_FILE, load_model, save_model, train

__all__ = ["TOKENIZERS", "Doc2VecConfig", "LAYOUTS", "Document", "read_documents", "DocModel", "features", "infer",
           "neighbors", "tagged", "train_model", "WEIGHTS_FILE", "WORDS_FILE", "load_model", "save_model", "train"]
