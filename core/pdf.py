"""PDF documents with Chinese text (settlement agreements, case dossiers).

reportlab embeds a subset of a TrueType font with a ToUnicode map, so the Chinese renders on every
reader and the text can be extracted again (tests do). The font is Debian's WenQuanYi Zen Hei
(`make fonts` installs it); COMPLAINTDESK_PDF_FONT names another TrueType/TTC file. Without one,
reportlab's built-in CID font STSong-Light is used: it renders in readers that have an Adobe CJK
font, but it is not embedded, so the set-up installs the TrueType one."""

from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
FONT_NAME = "ComplaintDeskCJK"
FALLBACK_FONT = "STSong-Light"


@cache
def font_name() -> str:
    """Register the CJK font once per process; returns the name to use in styles."""
    configured = getattr(settings, "COMPLAINTDESK_PDF_FONT", "")
    for candidate in (configured, *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            pdfmetrics.registerFont(TTFont(FONT_NAME, candidate, subfontIndex=0))
            return FONT_NAME
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


def styles() -> dict[str, ParagraphStyle]:
    font = font_name()
    # wordWrap="CJK" breaks lines between any two Chinese characters (there are no spaces).
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=8),
        "heading": ParagraphStyle("heading", parent=body, fontSize=12.5, leading=20, spaceBefore=8, spaceAfter=4),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=12, textColor=colors.HexColor("#444444")),
        "mono": ParagraphStyle("mono", parent=body, fontSize=7.5, leading=10),
    }


def para(text: Any, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: escaped (reportlab reads a little XML) and line breaks kept."""
    from xml.sax.saxutils import escape

    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def table(rows: list[list[Any]], widths: list[float] | None = None, style: ParagraphStyle | None = None) -> Table:
    """A bordered table of plain-text cells that wrap."""
    cell = style or styles()["body"]
    data = [[c if isinstance(c, Flowable) else para("" if c is None else c, cell) for c in row] for row in rows]
    result = Table(data, colWidths=widths, repeatRows=0)
    result.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
            ]
        )
    )
    return result


def render(story: list[Flowable], *, title: str, author: str = "ComplaintDesk") -> bytes:
    """Lay the flowables out on A4 pages with page numbers; returns the PDF bytes."""
    import io

    buffer = io.BytesIO()
    font = font_name()

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{title} · {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author,
        # Same input, same bytes: no creation date or random document id in the file.
        invariant=1,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


__all__ = ["Spacer", "font_name", "para", "render", "styles", "table"]
