"""Input readers and atomic writers, by the names they have always had here.

The code lives by concern: `sources` (what an input is, expanding paths, folders and globs),
`digest` (hashing while reading), `binary` (opening bytes: the gzip-bomb guard), `readers`
(lines and whole texts, the small-file fast read), `jsonlines` (the JSON-lines reader),
`atomic` (atomic writes, stale temp files) and `outputs` (output path checks). seqtool's own
modules import from those; this module keeps every function and class importable from
`seqtool.core.io`. The limits (MAX_LINE_BYTES, SMALL_FILE_BYTES in `readers`; MAX_GZIP_RATIO, GZIP_RATIO_FLOOR in
`binary`) are read and set in their homes only, so each has one value.
"""

from __future__ import annotations

from .atomic import (TEMP_PREFIX, TEMP_SUFFIX, atomic_write, fsync_dir, is_seqtool_temp, remove_stale_temps,
                     write_bytes_atomic, write_text_atomic)
from .binary import open_binary
from .digest import Digest, HashedSource, sha256_of
from .jsonlines import JsonRecord, iter_json_records, json_records
from .outputs import check_output_path
from .readers import iter_lines, iter_source_lines, read_text
from .sources import STDIN, Source, directory_files, display_name, expand_inputs

__all__ = [
    "Digest", "HashedSource", "JsonRecord", "STDIN", "Source", "TEMP_PREFIX", "TEMP_SUFFIX", "atomic_write",
    "check_output_path", "directory_files", "display_name", "expand_inputs", "fsync_dir", "is_seqtool_temp", "iter_json_records",
    "iter_lines", "iter_source_lines", "json_records", "open_binary", "read_text", "remove_stale_temps",
    "sha256_of", "write_bytes_atomic", "write_text_atomic",
]
