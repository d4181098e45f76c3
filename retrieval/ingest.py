"""An uploaded report from file to preview: extract, validate, propose its names, count what cleaning finds.

Nothing is written here; corpus.add_report writes once the admin confirms. Every
refusal is a CorpusError whose message names the problem.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from .chunking import chunk_report
from .corpus import SAFE_NAME, CorpusError, Report, load_corpus
from .extract import HAN, PAGE_BREAK, READERS, ExtractError, extract
from .metadata import propose
from .pages import repair

SHORT_TEXT = 500  # characters: less is worth a warning
NOT_SENTENCE_SHARE = 0.5
SAMPLES = 3


@dataclass(frozen=True)
class Preview:
    """What the admin confirms: the extracted text and what the bot understood of it."""

    original: str  # the uploaded file's name
    file: str  # the extracted text's name in the corpus folder
    text: str
    fields: dict[str, str]
    characters: int
    sentences: int
    sections: int
    samples: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())


def _text(name: str, data: bytes) -> str:
    try:
        text = extract(name, data)
    except ExtractError as exc:
        raise CorpusError(f"{name}: {exc}") from exc
    if not text.replace(PAGE_BREAK, "").strip():
        if name.lower().endswith(".pdf"):
            raise CorpusError(f"{name}: the PDF has no text layer (a scan?); text cannot be read from images here (no OCR)")
        raise CorpusError(f"{name}: the file is empty")
    if not HAN.search(text):
        raise CorpusError(f"{name}: no Chinese text found")
    return text


def prepare(folder: Path | str, name: str, data: bytes, caption: dict[str, str], max_bytes: int) -> Preview:
    """Check an upload and describe it; raises CorpusError naming the problem, changing nothing."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in READERS:
        raise CorpusError(f"{name[:80]}: file type '{suffix or '?'}' not supported: send .pdf, .docx, .html or .txt")
    if len(data) > max_bytes:
        raise CorpusError(f"{name}: {len(data)} bytes, more than the limit of {max_bytes}")
    file = re.sub(r"\.[^.]*$", ".txt", name)
    if not SAFE_NAME.match(file):
        raise CorpusError(f"{name[:80]}: not a safe file name (letters, digits, - _ . and one of the types)")
    text = _text(name, data)
    if (Path(folder) / file).exists():
        raise CorpusError(f"{file}: a report of that name exists already")
    digest = hashlib.sha256(text.encode()).hexdigest()
    for report in load_corpus(folder).reports:
        if report.digest == digest:
            raise CorpusError(f"{name}: the same text as {report.file} ({report.town}), already there")
    repaired = repair(text)  # the first lines and line counts without page furniture
    fields = propose(repaired) | {k: v for k, v in caption.items() if v.strip()}
    for key in ("town", "title"):
        if not fields.get(key, "").strip():
            raise CorpusError(f"{name}: say its {key} (not found in its first lines), e.g. town=宝华镇 title=2025年工作总结")
    chunks = chunk_report(Report("preview.txt", fields["town"], (), fields["title"], "", "", "", "", text))
    lines = [l for l in repaired.splitlines() if l.strip()]
    warnings = []
    characters = len(HAN.findall(text))
    if characters < SHORT_TEXT:
        warnings.append(f"文字很少（{characters} 个汉字）")
    if lines and sum(not re.search(r"[。！？；]", l) for l in lines) / len(lines) > NOT_SENTENCE_SHARE and len(lines) > 10:
        warnings.append("很多行不是完整的句子（表格或目录？）")
    step = max(1, len(chunks) // SAMPLES)
    return Preview(
        original=name,
        file=file,
        text=text,
        fields=fields,
        characters=characters,
        sentences=len(chunks),
        sections=len({c.section for c in chunks if c.section}),
        samples=tuple(c.text for c in chunks[::step][:SAMPLES]),
        warnings=tuple(warnings),
    )
