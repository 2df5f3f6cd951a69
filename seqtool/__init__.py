"""seqtool: a command-line NLP toolkit with a library you can import.

Heavy libraries (torch, gensim, nltk) load only when a feature needs them.
"""

from .core.errors import InputError, ModelError, SeqtoolError, StoreError, UsageError  # noqa: E402
from .core.readers import iter_lines, read_text  # noqa: E402
from .core.sources import Source, expand_inputs  # noqa: E402
from .core.store import ModelStore  # noqa: E402
from .core.text import Tokenizer, char_tokenize, split_sentences, word_tokenize  # noqa: E402
from .core.vocab import Vocab  # noqa: E402
from .core.version import __version__  # noqa: E402

__all__ = [
    "__version__", "SeqtoolError", "UsageError", "InputError", "ModelError", "StoreError",
    "Source", "expand_inputs", "iter_lines", "read_text", "ModelStore",
    "Tokenizer", "word_tokenize", "char_tokenize", "split_sentences", "Vocab",
]
