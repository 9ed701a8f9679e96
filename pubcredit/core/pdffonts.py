"""The CJK font a generated PDF embeds (bulletins; next, credit reports).

Letters (`core.letters`) name the Adobe CID font STSong-Light and leave the drawing to the reader;
a document that is compared, archived or read out at a meeting must look the same everywhere, so
it embeds a real TrueType font (a subset: only the glyphs used). The font is, in order:

- the setting `PUBCREDIT_PDF_FONT` (environment variable of the same name): a .ttf, or a .ttc
  with `PUBCREDIT_PDF_FONT_INDEX` choosing the face (default 0);
- else the first installed of `CANDIDATES`, Debian's packages first (fonts-wqy-zenhei, which
  `.ci/run` installs, then fonts-wqy-microhei, fonts-arphic-uming, fonts-droid-fallback).

Only TrueType outlines can be embedded by reportlab: an OpenType font with CFF outlines (an .otf,
or Noto Sans CJK's .ttc) is refused with a clear message. No font is no PDF: `PdfFontMissing`
says what to install, rather than a silent fallback to a font that renders differently.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

# Well-known places of CJK fonts with TrueType outlines, (path, face index), best first.
CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # Debian fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # Debian fonts-wqy-microhei
    ("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc", 0),  # Fedora / RHEL wqy-zenhei-fonts
    ("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc", 0),  # Fedora / RHEL wqy-microhei-fonts
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # Debian fonts-arphic-uming
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),  # fonts-droid-fallback
)

# The first bytes of an OpenType font with CFF (PostScript) outlines, which reportlab cannot embed.
_CFF_MAGIC = b"OTTO"


class PdfFontMissing(ImproperlyConfigured):
    """No usable CJK TrueType font: install one or point PUBCREDIT_PDF_FONT at one."""


def _hint() -> str:
    return _(
        "请安装文泉驿正黑字体(Debian/Ubuntu:apt-get install fonts-wqy-zenhei),"
        "或将环境变量 PUBCREDIT_PDF_FONT 设为一个 TrueType 中文字体文件(.ttf 或 .ttc)的路径。"
    )


def resolve() -> tuple[Path, int]:
    """(path, face index) of the font to embed: the setting, else the first installed candidate.
    PdfFontMissing when the setting names no file or no candidate is installed."""
    configured = getattr(settings, "PUBCREDIT_PDF_FONT", "") or ""
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise PdfFontMissing(
                _("PUBCREDIT_PDF_FONT 指定的字体文件不存在:%(path)s。") % {"path": path} + _hint()
            )
        return path, int(getattr(settings, "PUBCREDIT_PDF_FONT_INDEX", 0) or 0)
    for candidate, index in CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path, index
    raise PdfFontMissing(_("未找到可嵌入 PDF 的中文字体。") + _hint())


@cache
def _register(path: str, index: int) -> str:
    # Imported here: reportlab is heavy; loaded only when a PDF is drawn.
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    with open(path, "rb") as handle:
        head = handle.read(4)
    name = f"PubcreditCJK-{Path(path).stem}-{index}"
    try:
        if head == _CFF_MAGIC:
            raise TTFError("postscript outlines are not supported")
        font = TTFont(name, path, subfontIndex=index)
    except TTFError as exc:
        raise PdfFontMissing(
            _("字体文件 %(path)s(字体序号 %(index)d)无法嵌入 PDF:%(error)s。")
            % {"path": path, "index": index, "error": exc}
            + _("只支持 TrueType 轮廓的字体(Noto Sans CJK 等 CFF/OTF 字体不可用)。")
            + _hint()
        ) from exc
    pdfmetrics.registerFont(font)
    return name


def embedded_font() -> str:
    """The reportlab name of the CJK font to embed, registered once per (file, face)."""
    path, index = resolve()
    return _register(str(path), index)
