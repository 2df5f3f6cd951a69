"""seqtool.summarize.sentences.split_paragraph against the whole of Punkt, paragraph by paragraph.

Every paragraph and layout unit (split_document's "auto" units) of the BBC News
Summary articles and summaries, the bundled corpora/ and the other data sets in
shared/data (a line-per-record file: each line too) must split byte for byte as
PunktSentenceTokenizer splits it. Prints the count and the first differences.

    python benchmarks/check_sentences.py      # ~1 min; last run: 184,443 units, 0 differ
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))

from seqtool.summarize.document import _PARAGRAPH, _units  # noqa: E402
from seqtool.summarize.sentences import split_paragraph  # noqa: E402


def read(path: Path) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # News Articles/sport/199.txt is latin-1
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\n")


def main() -> int:
    import punkt

    reference = punkt.PunktSentenceTokenizer(punkt.load_model("english"))
    files = [p for p in sorted((REPO / "corpora").rglob("*")) + sorted(DATA.rglob("*"))
             if p.is_file() and p.name != "SHA256SUMS" and p.stat().st_size < 60_000_000]
    n = bad = 0
    for path in files:
        units = set()
        for paragraph in _PARAGRAPH.split(read(path)):
            units.add(paragraph)
            units.update(_units(paragraph))
            if paragraph.count("\n") > 50:  # one record a line
                units.update(paragraph.splitlines())
        for unit in units:
            text = " ".join(unit.split())
            if not text:
                continue
            n += 1
            want = [s.strip() for s in reference.tokenize(text) if s.strip()]
            got = split_paragraph(unit)
            if got != want:
                bad += 1
                if bad <= 10:
                    print(f"{path}: {text[:200]!r}\n  fast:  {got}\n  punkt: {want}", file=sys.stderr)
    print(f"{n} paragraphs and units from {len(files)} files: {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
