"""pypdf against pdfminer.six on Chinese PDFs made from the seed reports (one and two columns).

For each library and layout: share of the source's Chinese characters found (multiset),
reading order (difflib ratio of the Chinese character sequences) and milliseconds per page.
Run: .venv/bin/python benchmarks/pdf_extractors.py [--reports N]
"""

from __future__ import annotations

import argparse
import difflib
import io
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.documents import report_pdf  # noqa: E402

HAN = re.compile(r"[\u4e00-\u9fff]")


def with_pypdf(data: bytes) -> tuple[str, int]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() or "" for p in reader.pages), len(reader.pages)


def with_pdfminer(data: bytes) -> tuple[str, int]:
    from pdfminer.high_level import extract_text

    text = extract_text(io.BytesIO(data))
    return text, text.count("\f") or 1


def han(text: str) -> str:
    return "".join(HAN.findall(text))


def score(source: str, got: str) -> tuple[float, float]:
    want, have = Counter(han(source)), Counter(han(got))
    chars = sum((want & have).values()) / max(sum(want.values()), 1)
    order = difflib.SequenceMatcher(None, han(source), han(got), autojunk=False).ratio()
    return chars, order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=5)
    args = parser.parse_args()
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))][: args.reports]
    print("| library | layout | Chinese chars found | reading order | ms / page |")
    print("| --- | --- | --- | --- | --- |")
    for columns in (1, 2):
        pdfs = [report_pdf(t, header="镇人民政府工作报告", columns=columns) for t in texts]
        for name, read in (("pypdf", with_pypdf), ("pdfminer.six", with_pdfminer)):
            chars, order, pages, seconds = [], [], 0, 0.0
            for text, pdf in zip(texts, pdfs):
                start = time.perf_counter()
                got, n = read(pdf)
                seconds += time.perf_counter() - start
                pages += n
                c, o = score(text, got)
                chars.append(c)
                order.append(o)
            print(f"| {name} | {columns} column{'s' if columns > 1 else ''} | {sum(chars) / len(chars):.4f} | "
                  f"{sum(order) / len(order):.4f} | {1000 * seconds / pages:.1f} |")


if __name__ == "__main__":
    main()
