"""The CJK font generated PDFs embed: the setting, else the first installed well-known font, else
a clear error; fonts reportlab cannot embed (CFF outlines) are refused, never swapped."""

from __future__ import annotations

from pathlib import Path

import pytest

from pubcredit.core import pdffonts
from pubcredit.core.pdffonts import PdfFontMissing

# Debian's fonts-wqy-zenhei: installed on the developers' machines and by .ci/run. Its .ttc has
# three faces: 0 WenQuanYi Zen Hei, 1 the Mono variant, 2 the Sharp (bitmap-hinted) variant.
ZENHEI = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


@pytest.fixture(autouse=True)
def _no_setting(settings):
    settings.PUBCREDIT_PDF_FONT = ""
    settings.PUBCREDIT_PDF_FONT_INDEX = 0


def test_the_setting_wins_with_its_face_index(settings, monkeypatch):
    monkeypatch.setattr(pdffonts, "CANDIDATES", ())
    settings.PUBCREDIT_PDF_FONT = ZENHEI
    settings.PUBCREDIT_PDF_FONT_INDEX = 2
    assert pdffonts.resolve() == (Path(ZENHEI), 2)

    from reportlab.pdfbase import pdfmetrics

    name = pdffonts.embedded_font()
    assert name == "PubcreditCJK-wqy-zenhei-2"
    assert pdfmetrics.getFont(name).face.name == b"WenQuanYiZenHeiSharp"


def test_without_the_setting_the_first_installed_candidate(tmp_path, monkeypatch):
    monkeypatch.setattr(
        pdffonts, "CANDIDATES", ((str(tmp_path / "missing.ttc"), 0), (ZENHEI, 1), (ZENHEI, 0))
    )
    assert pdffonts.resolve() == (Path(ZENHEI), 1)


def test_the_debian_zenhei_font_comes_first():
    assert pdffonts.CANDIDATES[0] == (ZENHEI, 0)
    assert pdffonts.resolve() == (Path(ZENHEI), 0)


def test_registered_once(monkeypatch):
    from reportlab.pdfbase import pdfmetrics

    calls = []
    register = pdfmetrics.registerFont
    monkeypatch.setattr(pdfmetrics, "registerFont", lambda font: calls.append(register(font)))
    pdffonts._register.cache_clear()
    assert pdffonts.embedded_font() == pdffonts.embedded_font() == "PubcreditCJK-wqy-zenhei-0"
    assert len(calls) == 1


def test_no_font_is_a_clear_error_not_a_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(pdffonts, "CANDIDATES", ((str(tmp_path / "none.ttc"), 0),))
    with pytest.raises(PdfFontMissing) as caught:
        pdffonts.embedded_font()
    assert "未找到可嵌入 PDF 的中文字体" in str(caught.value)
    assert "apt-get install fonts-wqy-zenhei" in str(caught.value)
    assert "PUBCREDIT_PDF_FONT" in str(caught.value)


def test_a_setting_naming_no_file_is_an_error(settings, tmp_path):
    settings.PUBCREDIT_PDF_FONT = str(tmp_path / "gone.ttf")
    with pytest.raises(PdfFontMissing, match="字体文件不存在") as caught:
        pdffonts.embedded_font()
    assert "gone.ttf" in str(caught.value)


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        # An OpenType font with CFF outlines (Noto Sans CJK's .otf): reportlab cannot embed it.
        (b"OTTO" + bytes(64), "postscript outlines"),
        (b"not a font at all", "Not a recognized TrueType font"),
    ],
)
def test_fonts_that_cannot_be_embedded_are_refused(settings, tmp_path, head, reason):
    font = tmp_path / "font.otf"
    font.write_bytes(head)
    settings.PUBCREDIT_PDF_FONT = str(font)
    with pytest.raises(PdfFontMissing) as caught:
        pdffonts.embedded_font()
    message = str(caught.value)
    assert "无法嵌入 PDF" in message and reason in message
    assert "只支持 TrueType 轮廓的字体" in message


def test_a_face_index_the_collection_lacks_is_refused(settings):
    settings.PUBCREDIT_PDF_FONT = ZENHEI
    settings.PUBCREDIT_PDF_FONT_INDEX = 7
    with pytest.raises(PdfFontMissing, match="字体序号 7"):
        pdffonts.embedded_font()
