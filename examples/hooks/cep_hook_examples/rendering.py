"""A PDF renderer for tests and demonstrations: one page naming the document, no WeasyPrint.

It answers before the default renderer (which is ``trylast``); a real alternative renderer
(a dedicated service, another engine) has the same shape.
"""

from __future__ import annotations

from cep_core import PluginInfo, PluginKind, RenderRequest, hookimpl
from cep_hook_examples.info import example_info


@hookimpl
def cep_plugin_info() -> PluginInfo:
    return example_info("exemples.rendu", PluginKind.CAPABILITY, "Rendu PDF minimal")


def one_page_pdf(title: str) -> bytes:
    """A valid one-page PDF showing `title` (Latin-1 only; others become "?")."""
    text = title.encode("latin-1", "replace").replace(b"\\", b"\\\\")
    text = text.replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 14 Tf 72 770 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        table,
    )
    return bytes(pdf)


@hookimpl
def cep_render_pdf(request: RenderRequest) -> bytes | None:
    return one_page_pdf(request.title)
