import gzip
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqtool.core import binary, readers
from seqtool.core import io as sio
from seqtool.core.errors import InputError, StoreError
from seqtool.core.io import Source, atomic_write, expand_inputs, iter_lines, iter_source_lines, read_text

HYP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def lines_of(path, **kw):
    return list(iter_source_lines(Source(str(path)), **kw))


def test_crlf_lf_and_lone_final_line(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"one\r\ntwo\nthree")
    assert lines_of(p) == ["one", "two", "three"]
    assert lines_of(p, keep_newlines=True) == ["one\n", "two\n", "three"]


def test_gzip_is_transparent_whatever_the_name(tmp_path):
    p = tmp_path / "corpus.bin"
    p.write_bytes(gzip.compress("α\nβ\n".encode()))
    assert lines_of(p) == ["α", "β"]


def test_truncated_gzip_is_a_clear_error(tmp_path):
    p = tmp_path / "c.txt.gz"
    p.write_bytes(gzip.compress(b"hello world\n" * 1000)[:-30])
    with pytest.raises(InputError, match=r"c\.txt\.gz: truncated gzip"):
        lines_of(p)


def test_gzip_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(binary, "GZIP_RATIO_FLOOR", 1 << 20)
    p = tmp_path / "bomb.gz"
    p.write_bytes(gzip.compress(b"a b c d\n" * (2 << 20)))
    with pytest.raises(InputError, match="gzip bomb"):
        lines_of(p)


def test_invalid_utf8_names_file_and_byte_offset(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"fine\nalso fine\nbad \xff here\n")
    with pytest.raises(InputError) as err:
        lines_of(p)
    assert str(err.value).startswith(f"{p}: invalid utf-8 at byte 19 (line 3)")
    assert lines_of(p, errors="replace")[2] == "bad \ufffd here"
    assert lines_of(p, encoding="latin-1")[2] == "bad ÿ here"


def test_binary_file_is_refused(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"abc\x00def")
    with pytest.raises(InputError, match="binary data"):
        lines_of(p)


def test_giant_line_is_refused_with_a_limit(tmp_path):
    p = tmp_path / "long.txt"
    p.write_bytes(b"x" * 5000)
    with pytest.raises(InputError, match="line 1 is longer than"):
        lines_of(p, max_line_bytes=1000)


def test_expand_dirs_globs_and_errors(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "b.txt").write_text("b")
    (tmp_path / "d" / "sub" / "a.txt").write_text("a")
    (tmp_path / "d" / ".hidden").write_text("h")
    got = [s.path for s in expand_inputs([str(tmp_path / "d")])]
    assert got == [str(tmp_path / "d" / "b.txt"), str(tmp_path / "d" / "sub" / "a.txt")]
    assert [s.path for s in expand_inputs([str(tmp_path / "d" / "*.txt")])] == [str(tmp_path / "d" / "b.txt")]
    assert expand_inputs(["-"]) == [Source("-")]
    with pytest.raises(InputError, match="no such file"):
        expand_inputs([str(tmp_path / "missing.txt")])
    with pytest.raises(InputError, match="no files match"):
        expand_inputs([str(tmp_path / "*.nothing")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="contains no files"):
        expand_inputs([str(tmp_path / "empty")])


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write("partial")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]
    with atomic_write(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"


def test_disk_full_is_a_store_error_and_keeps_old_file(tmp_path, monkeypatch):
    import errno

    target = tmp_path / "out.txt"
    target.write_text("old")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(StoreError, match="No space left on device"):
        with atomic_write(target) as fh:
            fh.write("new")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]


line_text = st.text(alphabet=st.characters(blacklist_characters="\r\n\x00", blacklist_categories=("Cs",)))


@HYP
@given(lines=st.lists(line_text, min_size=1, max_size=20), ending=st.sampled_from(["\n", "\r\n"]),
       final=st.booleans(), compress=st.booleans())
def test_any_unicode_lines_round_trip(tmp_path, lines, ending, final, compress):
    data = ending.join(lines) + (ending if final else "")
    raw = data.encode("utf-8")
    p = tmp_path / "f.txt"
    p.write_bytes(gzip.compress(raw) if compress else raw)
    normalized = data.replace("\r\n", "\n")
    expected = normalized.split("\n")
    if normalized.endswith("\n") or normalized == "":
        expected.pop()
    assert list(iter_lines([Source(str(p))])) == expected
    assert read_text(Source(str(p))) == normalized


@HYP
@given(blob=st.binary(max_size=300))
def test_random_bytes_either_decode_or_fail_cleanly(tmp_path, blob):
    p = tmp_path / "r.bin"
    p.write_bytes(blob)
    try:
        got = lines_of(p)
    except InputError as exc:
        assert str(exc).startswith(str(p)) and "\n" not in str(exc)
    else:
        assert all("\n" not in line for line in got)
        assert len(got) == blob.count(b"\n") + (0 if blob.endswith(b"\n") or not blob else 1)


def test_check_output_path_refuses_an_input_a_folder_and_a_missing_parent(tmp_path):
    from seqtool.core.errors import UsageError
    from seqtool.core.io import Source, check_output_path

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a b c\n")
    link = tmp_path / "alias.txt"
    link.symlink_to(corpus)
    with pytest.raises(UsageError, match="is the input"):
        check_output_path(corpus, inputs=[Source(str(corpus))], option="--arpa")
    with pytest.raises(UsageError, match="is the input"):  # same inode by another name
        check_output_path(link, inputs=[Source(str(corpus))], option="--arpa")
    with pytest.raises(UsageError, match="is a directory"):
        check_output_path(tmp_path, option="--arpa")
    with pytest.raises(UsageError, match="does not exist"):
        check_output_path(tmp_path / "nope" / "x.arpa", option="--arpa")
    with pytest.raises(UsageError, match="unsupported file type"):
        check_output_path(tmp_path / "c.bmp", option="--plot", suffixes=(".png", ".svg"))
    assert check_output_path(tmp_path / "new.arpa", inputs=[Source(str(corpus))]) == tmp_path / "new.arpa"


# ---------------------------------------------------------------- issue 19: read once, temp names
def test_digest_while_reading_equals_the_file_hash(tmp_path):
    from seqtool.core.io import Digest, sha256_of

    for name, data in (("p.txt", b"one\r\ntwo\nthree"), ("g.txt.gz", gzip.compress(b"alpha\nbeta\n" * 500))):
        p = tmp_path / name
        p.write_bytes(data)
        digest = Digest()
        assert read_text(Source(str(p)), digest=digest).count("\n") in (2, 1000)
        assert digest.hexdigest() == sha256_of(p) and digest.size == len(data)


def test_a_digest_is_not_given_before_the_end():
    from seqtool.core.io import Digest

    with pytest.raises(RuntimeError):
        Digest().hexdigest()


def test_a_fifo_is_read_once_with_its_hash(tmp_path):
    import hashlib
    import threading

    from seqtool.core.io import Digest

    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    data = b"first line\nsecond line\n"
    writer = threading.Thread(target=lambda: fifo.write_bytes(data))
    writer.start()
    digest = Digest()
    # Opening a FIFO twice (once to hash it) would block forever: a second read never comes.
    assert list(iter_source_lines(Source(str(fifo)), digest=digest)) == ["first line", "second line"]
    writer.join(5)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_dev_zero_is_binary_data_at_once():
    import time

    start = time.monotonic()
    with pytest.raises(InputError, match="/dev/zero: binary data"):
        read_text(Source("/dev/zero"))
    assert time.monotonic() - start < 5


def test_atomic_write_temps_have_seqtool_names_and_only_those_are_cleaned(tmp_path):
    from seqtool.core.io import is_seqtool_temp, remove_stale_temps

    seen = []
    with atomic_write(tmp_path / "out.txt") as fh:
        seen = [p.name for p in tmp_path.iterdir()]
        fh.write("x")
    assert len(seen) == 1 and seen[0].startswith(".seqtool-tmp-out.txt.") and is_seqtool_temp(seen[0])
    foreign = [".cache.tmp", ".report.docx.tmp", ".out.txt.abcdefgh.tmp", "seqtool-tmp-x.abcdefgh.tmp"]
    for name in foreign:
        (tmp_path / name).write_text("keep me")
    (tmp_path / ".seqtool-tmp-out.txt.ab12cd_9.tmp").write_text("stale")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".seqtool-tmp-y.abcdefgh.tmp").write_text("not this folder")
    assert remove_stale_temps(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == sorted(foreign + ["out.txt"])
    assert (tmp_path / "sub" / ".seqtool-tmp-y.abcdefgh.tmp").exists()


def test_display_name_escapes_bytes_that_are_not_utf8():
    from seqtool.core.io import display_name

    name = os.fsdecode(b"caf\xe9.txt")
    assert display_name(name) == "caf\\xe9.txt"
    assert Source(name).name == "caf\\xe9.txt"
    assert display_name("plain ü.txt") == "plain ü.txt"


def test_json_records_one_reader(tmp_path):
    from seqtool.core.io import iter_json_records

    p = tmp_path / "r.jsonl"
    p.write_text('{"id": "a", "text": "x"}\n\n{"text": "no id"}\nnot json\n[1]\n{"id": 5, "text": 3}\n')
    records = list(iter_json_records([Source(str(p))]))
    assert [(r.lineno, r.id, r.text, r.error is None) for r in records[:2]] == [(1, "a", "x", True), (3, 3, "no id", True)]
    assert records[2].error == f"{p}:4: not valid JSON (Expecting value)"
    assert records[3].error == f"{p}:5: expected a JSON object"
    assert records[4].error == f'{p}:6: expected an object with a string "text"'
    assert [r.data for r in iter_json_records([Source(str(p))], text_key=None) if r.data][-1] == {"id": 5, "text": 3}


def test_gzip_read_counts_bytes_against_the_bomb_limit(tmp_path, monkeypatch):
    from seqtool.core.io import open_binary

    monkeypatch.setattr(binary, "GZIP_RATIO_FLOOR", 1 << 20)
    p = tmp_path / "bomb.gz"
    p.write_bytes(gzip.compress(b"\x01" * (4 << 20)))  # 4 MiB from ~4 KiB: over 1 MiB and 200x
    with open_binary(Source(str(p))) as fh:
        with pytest.raises(InputError, match="gzip bomb"):
            fh.read()
    with open_binary(Source(str(p))) as fh:
        with pytest.raises(InputError, match="gzip bomb"):
            while fh.read(65536):
                pass


def test_gzip_read_returns_the_bytes_and_maps_truncation(tmp_path):
    from seqtool.core.io import open_binary

    data = bytes(range(256)) * 1000
    p = tmp_path / "v.bin.gz"
    p.write_bytes(gzip.compress(data))
    with open_binary(Source(str(p))) as fh:
        assert fh.read(10) == data[:10] and fh.readline() == data[10:10 + 1] and fh.read() == data[11:]
        assert fh.read() == b"" and fh.read(5) == b""
    p.write_bytes(gzip.compress(data)[:-30])
    with open_binary(Source(str(p))) as fh:
        with pytest.raises(InputError, match=r"v\.bin\.gz: truncated gzip"):
            fh.read()


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200).map(lambda b: b.replace(b"\x00", b"")) | st.lists(
    st.sampled_from([b"a", b"\r", b"\n", b"\r\n", b"\xc3\xa9", b"\xc3", b"\xa3", b"\xe2\x82", b"\xef\xbb\xbf", b" "]),
    max_size=40).map(b"".join),
    encoding=st.sampled_from(["utf-8", "latin-1", "cp1252", "ascii", "utf-8-sig"]),
    errors=st.sampled_from(["strict", "replace", "ignore"]))
def test_read_text_of_a_small_file_equals_the_line_reader(tmp_path_factory, data, encoding, errors):
    """read_text reads a small file in one go (core.io._read_small_file): the same text,
    digest and errors as joining the streamed lines."""
    from seqtool.core.errors import InputError
    from seqtool.core.io import Digest

    p = tmp_path_factory.mktemp("rt") / "doc.txt"
    p.write_bytes(data)

    def outcome(fn):
        digest = Digest()
        try:
            return fn(digest), digest.hexdigest()
        except InputError as exc:
            return "error", exc.message

    fast = outcome(lambda d: read_text(Source(str(p)), encoding=encoding, errors=errors, digest=d))
    lines = outcome(lambda d: "".join(iter_source_lines(Source(str(p)), keep_newlines=True, encoding=encoding,
                                                        errors=errors, digest=d)))
    assert fast == lines


# The functions and classes seqtool.core.io had before it was split by concern (issue 16), each
# the object of its home; the limits live in their homes only (one value each).
OLD_NAMES = {
    "sources": ["STDIN", "Source", "directory_files", "display_name", "expand_inputs"],
    "digest": ["Digest", "HashedSource", "sha256_of"],
    "binary": ["open_binary"],
    "readers": ["iter_lines", "iter_source_lines", "read_text"],
    "jsonlines": ["JsonRecord", "iter_json_records", "json_records"],
    "atomic": ["TEMP_PREFIX", "TEMP_SUFFIX", "atomic_write", "fsync_dir", "is_seqtool_temp", "remove_stale_temps",
               "write_bytes_atomic", "write_text_atomic"],
    "outputs": ["check_output_path"],
}


def test_core_io_keeps_every_function_it_had_as_the_object_of_its_new_home():
    import importlib

    for module, names in OLD_NAMES.items():
        home = importlib.import_module(f"seqtool.core.{module}")
        for name in names:
            assert getattr(sio, name) is getattr(home, name), name
    assert sorted(sio.__all__) == sorted(n for names in OLD_NAMES.values() for n in names)
    assert not hasattr(sio, "MAX_LINE_BYTES")  # no second copy of a limit to set by mistake


def test_a_limit_set_at_its_home_is_the_one_every_reader_applies(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 1 << 20)
    p = tmp_path / "long.txt"
    p.write_bytes(b"x" * ((1 << 20) + 10) + b"\n")
    with pytest.raises(InputError, match="line 1 is longer than 1 MiB"):
        lines_of(p)
    with pytest.raises(InputError, match="longer than 1 MiB"):
        read_text(Source(str(p)))
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 2 << 20)
    assert len(lines_of(p)[0]) == (1 << 20) + 10
