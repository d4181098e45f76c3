"""Text out of a report as published: .pdf, .docx, .html or .txt, one small reader per format.

Pages of a PDF are joined with a form feed, so cleaning can tell running headers and
footers (the same line on many pages) from the text. Nothing here judges the text;
ingest.py does.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import PurePath

from .tables import CELL, HAN

PAGE_BREAK = "\f"
# A .docx is a zip: refuse it before parsing when it would unpack to more than this, or compress too well.
DOCX_MAX_UNPACKED = 50_000_000
DOCX_MAX_RATIO = 100
HEADING_MOST = 60  # a .docx paragraph in a heading's style is a heading up to this length
TABLE_CELL_MAX = 60  # a web page's table with a longer cell lays out the page rather than holding figures
ARTICLE_SHARE = 0.6  # a web page's article holds at least this share of its Chinese text, or it was misjudged
TXT_SNIFF = 64_000  # the bytes of a text that is not UTF-8 that chardet reads to name its encoding
# The encodings chardet may name for a Chinese text, each decoded by the codec that covers its family
# (GB18030 reads GBK and GB2312; Big5-HKSCS reads Big5; the BOM says UTF-16's byte order).
CHINESE_ENCODINGS = {"gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "big5": "big5hkscs",
                     "utf-16": "utf-16", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be"}


class ExtractError(ValueError):
    """The document cannot be read; the message says why, for the admin."""


def pdf_text(data: bytes) -> list[str]:
    """The text of each page (pypdf: see benchmarks/pdf_extractors.py for why not pdfminer.six)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ExtractError("the PDF is encrypted (password-protected); send an unprotected copy")
        return [page.extract_text() or "" for page in reader.pages]
    except ExtractError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractError(f"not a readable PDF ({exc.__class__.__name__}: {str(exc)[:100]})") from exc


def check_zip(data: bytes) -> None:
    """Refuse a zip bomb from the sizes its directory announces, before anything is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ExtractError("not a readable .docx (not a zip archive)") from exc
    unpacked = sum(e.file_size for e in entries)
    if unpacked > DOCX_MAX_UNPACKED or unpacked > DOCX_MAX_RATIO * max(len(data), 1):
        raise ExtractError(f"the .docx would unpack to {unpacked} bytes from {len(data)}: refused as a zip bomb")


def docx_text(data: bytes) -> list[str]:
    """Paragraphs and tables in document order, as one page: a heading (by its style) marked as in Markdown, a
    table's row a line, its cells joined by CELL."""
    check_zip(data)
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise ExtractError(f"not a readable .docx ({exc.__class__.__name__})") from exc
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines += [CELL.join(" ".join(cell.text.split()) for cell in row.cells) for row in block.rows]
        else:
            level = _style_level(block.style.name if block.style is not None else "")
            heading = level and 0 < len(block.text.strip()) <= HEADING_MOST  # a long one is text in a heading's style
            lines.append(f"{'#' * level} {block.text.strip()}" if heading else block.text)
    return ["\n".join(lines)]


def _style_level(style: str) -> int:
    """A paragraph style's heading level as cleaning reads Markdown (# the title, ## a part, ### a section…), 0 for
    body text: a heading known by its style needs no 「一、」, which Word's own numbering leaves out of the text."""
    if re.fullmatch(r"(?i)title|标题", style.strip()):
        return 1
    match = re.fullmatch(r"(?i)(?:heading|标题)\s*([1-5])", style.strip())
    return int(match.group(1)) + 1 if match else 0


def html_text(data: bytes) -> list[str]:
    """The report on a web page: its article as readability-lxml finds it (a government site's navigation,
    breadcrumbs, share buttons and footer left out), headed by the page's <h1>; the whole visible text instead
    when the article found holds less than ARTICLE_SHARE of it (a report spread over several blocks)."""
    from bs4 import BeautifulSoup
    from readability import Document
    from readability.readability import Unparseable

    soup = BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe"]):
        tag.decompose()
    _rows_as_lines(soup)
    _headings_marked(soup)
    visible = (soup.body or soup).get_text("\n")
    if not HAN.search(visible):  # no report to find (ingest.py says so); readability would log a traceback
        return [visible]
    try:
        article = BeautifulSoup(Document(str(soup)).summary(html_partial=True), "lxml").get_text("\n")
    except Unparseable:
        return [visible]
    if len(HAN.findall(article)) < ARTICLE_SHARE * len(HAN.findall(visible)):
        return [visible]
    heading = soup.find("h1")
    title = heading.get_text(" ", strip=True) if heading else ""
    return [f"{title}\n{article}" if title and title not in article else article]


def _rows_as_lines(soup) -> None:
    """Each table of figures as its caption and a line per row, its cells joined by CELL (tables.py reads them
    as sentences). A table holding tables or long text lays out the page, not figures: it is left alone."""
    for table in soup.find_all("table"):
        cells = table.find_all(["td", "th"])
        if table.find("table") or not cells or max(len(c.get_text(strip=True)) for c in cells) > TABLE_CELL_MAX:
            continue
        rows = [CELL.join(c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])) for tr in table.find_all("tr")]
        caption = table.find("caption")
        lines = [caption.get_text(" ", strip=True)] if caption else []
        table.replace_with("\n" + "\n".join([*lines, *rows]) + "\n")


def _headings_marked(soup) -> None:
    """Each <h2>–<h6> as a Markdown heading line (## …), as a .docx heading by its style: 「2024年工作回顾」 alone, with
    its year, would read as a line of text. <h1> stays: it heads the page and titles the report."""
    for tag in soup.find_all(["h2", "h3", "h4", "h5", "h6"]):
        text = tag.get_text(" ", strip=True)
        if 0 < len(text) <= HEADING_MOST:
            tag.replace_with(f"\n{'#' * int(tag.name[1])} {text}\n")


def txt_text(data: bytes) -> list[str]:
    """UTF-8, or what chardet finds a Chinese text to be in: a report saved on a Chinese Windows machine is
    often GB18030 (GBK, GB2312) or UTF-16."""
    try:
        return [data.decode("utf-8-sig")]
    except UnicodeDecodeError as exc:
        bad = exc.start
    import chardet

    guess = chardet.detect(data[:TXT_SNIFF])
    encoding = CHINESE_ENCODINGS.get((guess["encoding"] or "").lower())
    if encoding is None or guess["language"] != "zh":
        raise ExtractError(f"not UTF-8 text (bad byte at offset {bad}) nor Chinese text in GB18030, Big5 or UTF-16; "
                           "save it as UTF-8")
    try:
        return [data.decode(encoding)]
    except UnicodeDecodeError as exc:
        raise ExtractError(f"not UTF-8 text, and not {encoding} either (bad byte at offset {exc.start})") from exc


READERS: dict[str, Callable[[bytes], list[str]]] = {
    ".pdf": pdf_text, ".docx": docx_text, ".html": html_text, ".htm": html_text, ".txt": txt_text,
}


def extract(name: str, data: bytes) -> str:
    """The document's text, pages separated by PAGE_BREAK; ExtractError when it cannot be read."""
    suffix = PurePath(name).suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise ExtractError(f"file type '{suffix or name}' not supported: send .pdf, .docx, .html or .txt")
    return PAGE_BREAK.join(page.replace("\x00", "") for page in reader(data))
