"""Real report documents made from text, for the tests and benchmarks: PDFs with reportlab's
built-in Chinese CID font (page numbers and a running header on every page), .docx with python-docx."""

from __future__ import annotations

import io

LINE_CHARS = 38


def _lines(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines():
        paragraph = paragraph.strip()
        while paragraph:
            lines.append(paragraph[:width])
            paragraph = paragraph[width:]
    return lines


def report_pdf(text: str, header: str = "", columns: int = 1, page_number: str = "- {} -") -> bytes:
    """An A4 PDF of the text, wrapped at a fixed width like an exported Word file, with
    `header` on top of every page and the page number (formatted with `page_number`) below."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    width, height = A4
    per_line = LINE_CHARS if columns == 1 else LINE_CHARS // 2 - 1
    column_width = (width - 120) / columns
    rows = int((height - 130) // 16)
    lines = _lines(text, per_line)
    per_page = rows * columns
    pages = [lines[i : i + per_page] for i in range(0, len(lines), per_page)] or [[]]
    for number, page in enumerate(pages, 1):
        pdf.setFont("STSong-Light", 9)
        if header:
            pdf.drawCentredString(width / 2, height - 40, header)
        pdf.drawCentredString(width / 2, 30, page_number.format(number, len(pages)))
        pdf.setFont("STSong-Light", 11)
        for i, line in enumerate(page):
            column, row = divmod(i, rows)
            pdf.drawString(60 + column * column_width, height - 70 - row * 16, line)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def report_docx(text: str, table: tuple[str, list[list[str]]] | None = None) -> bytes:
    """A .docx with one paragraph per line of the text, and a captioned table (caption, rows) after its third line."""
    import docx

    document = docx.Document()
    for number, line in enumerate(text.splitlines()):
        document.add_paragraph(line)
        if table and number == 2:
            caption, rows = table
            document.add_paragraph(caption)
            grid = document.add_table(rows=0, cols=len(rows[0]))
            for row in rows:
                for cell, value in zip(grid.add_row().cells, row):
                    cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def table_pdf(before: str, caption: str, rows: list[list[str]], after: str) -> bytes:
    """A PDF of a paragraph, a captioned table drawn with grid lines (reportlab's Table), and a paragraph."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    style = ParagraphStyle("zh", fontName="STSong-Light", fontSize=11)
    table = Table(rows)
    table.setStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), ("GRID", (0, 0), (-1, -1), 0.5, "black")])
    SimpleDocTemplate(out, pagesize=A4).build([Paragraph(before, style), Paragraph(caption, style), table, Paragraph(after, style)])
    return out.getvalue()
