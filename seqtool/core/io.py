"""Input readers and atomic writers, by the names they have always had here.

The code lives by concern: `sources` (what an input is, expanding paths, folders and globs),
`digest` (hashing while reading), `binary` (opening bytes: the gzip-bomb guard), `readers`
(lines and whole texts, the small-file fast read), `jsonlines` (the JSON-lines reader),
`atomic` (atomic writes, stale temp files) and `outputs` (output path checks). seqtool's own
modules import from those; this module keeps every name importable from `seqtool.core.io`.
"""

from __future__ import annotations

import sys
import types

from . import binary, readers
from .atomic import (TEMP_PREFIX, TEMP_SUFFIX, atomic_write, fsync_dir, is_seqtool_temp, remove_stale_temps,
                     write_bytes_atomic, write_text_atomic)
from .binary import open_binary
from .digest import Digest, HashedSource, sha256_of
from .jsonlines import JsonRecord, iter_json_records, json_records
from .outputs import check_output_path
from .readers import iter_lines, iter_source_lines, read_text
from .sources import STDIN, Source, directory_files, display_name, expand_inputs

# The limits are read in the module that applies them, so each has one home and is not copied
# here: reading one through this module reads its home, and setting one (a test's monkeypatch, a
# program raising a limit) sets its home, as when they all lived in this file. Properties of the
# module's class do that (a data descriptor is what monkeypatch and `from ... import` both go through).
def _limit(home: types.ModuleType, name: str) -> property:
    return property(lambda _module: getattr(home, name), lambda _module, value: setattr(home, name, value),
                    doc=f"{home.__name__}.{name}")


class _Facade(types.ModuleType):
    MAX_LINE_BYTES = _limit(readers, "MAX_LINE_BYTES")
    SMALL_FILE_BYTES = _limit(readers, "SMALL_FILE_BYTES")
    MAX_GZIP_RATIO = _limit(binary, "MAX_GZIP_RATIO")
    GZIP_RATIO_FLOOR = _limit(binary, "GZIP_RATIO_FLOOR")


sys.modules[__name__].__class__ = _Facade

__all__ = [
    "Digest", "GZIP_RATIO_FLOOR", "HashedSource", "JsonRecord", "MAX_GZIP_RATIO", "MAX_LINE_BYTES",
    "SMALL_FILE_BYTES", "STDIN", "Source", "TEMP_PREFIX", "TEMP_SUFFIX", "atomic_write", "check_output_path",
    "directory_files", "display_name", "expand_inputs", "fsync_dir", "is_seqtool_temp", "iter_json_records",
    "iter_lines", "iter_source_lines", "json_records", "open_binary", "read_text", "remove_stale_temps",
    "sha256_of", "write_bytes_atomic", "write_text_atomic",
]
