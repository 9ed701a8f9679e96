"""信用报告 and 信用代证: standard public credit reports (公共信用信息报告标准 2022年版) that replace
paper certificates.

- `models.Report`: one issued report, frozen: its number (random, unguessable), kind (标准版 or
  无违法违规记录证明版), subject, the content as printed (JSON), the digest of the subject's
  public credit information at issue, the PDF and its sha256, validity, who asked, through
  which channel, and why (persons).
- `content.compose(subject, ...)`: the report's content as one JSON-ready dict (the API's JSON
  and the PDF's source): the report's head, then the sections of the 2022 standard.
- `render.render_pdf(content, ...)`: the PDF, set in the embedded CJK font (core.pdffonts), with
  the QR code (`qr.qr_drawing`) to the public verification page.
- `services.issue(...)`: the one path that issues a report (portal, API, window, CLI, batch).
"""
