"""Adding and removing reports, for the shell and the chat alike: the preview as lines, the listing."""

from __future__ import annotations

from pathlib import Path, PurePath

from retrieval import Corpus, add_report
from retrieval.chunking import chunk_report
from retrieval.ingest import Preview

FIELD_NAMES = {"town": "镇/街道", "title": "标题", "county": "县/市", "period": "时期", "aliases": "别名"}


def preview_lines(preview: Preview) -> list[str]:
    """What the bot understood of an upload, one item a line (plain text; render escapes it for Telegram)."""
    lines = [f"{label}：{preview.fields.get(key) or '—'}" for key, label in FIELD_NAMES.items()]
    lines.append(f"{preview.characters} 个汉字，{preview.sentences} 句，{preview.sections} 节")
    lines += [f"例句：{s[:80]}" for s in preview.samples]
    lines += [f"⚠️ {w}" for w in preview.warnings]
    return lines


def write(folder: Path, preview: Preview, data: bytes, max_bytes: int):
    """Write the confirmed upload: its text in UTF-8 (a .txt in GB18030 too), its original file (unless it is the
    .txt) and the manifest entry."""
    original = None if PurePath(preview.original).suffix.lower() == ".txt" else (preview.original, data)
    text = preview.text.encode("utf-8")
    return add_report(folder, preview.file, text, preview.fields, max(max_bytes, len(text)), original=original)


def report_rows(corpus: Corpus) -> list[tuple[str, str, str, int]]:
    """(file, town, period, passages) for every report."""
    return [(r.file, r.town, r.period, len(chunk_report(r))) for r in corpus.reports]
