"""Baselines served by the same server as the app, so every figure also stands as a ratio."""

import functools
import os
from pathlib import Path

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse

from core.pdf import render_pdf


@login_not_required
def bare_view(request: HttpRequest) -> HttpResponse:
    """The least a Django view can do: the whole middleware stack, no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


@functools.cache
def _permit_html() -> tuple[str, str]:
    # The HTML and stylesheet of a permit issued by this run's Finish and Close (written by
    # the driver).
    return (
        Path(os.environ["BENCH_PERMIT_HTML"]).read_text(encoding="utf-8"),
        Path(os.environ["BENCH_PERMIT_CSS"]).read_text(encoding="utf-8"),
    )


@login_not_required
def bare_weasyprint(request: HttpRequest) -> HttpResponse:
    """The permit's PDF rendered from its finished HTML: WeasyPrint alone, no database."""
    html, stylesheet = _permit_html()
    return HttpResponse(
        render_pdf(html, stylesheet=stylesheet, stylesheet_key="bench-permit"),
        content_type="application/pdf",
    )
