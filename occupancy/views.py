from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from occupancy.models import OccupancyPermit
from permits import access


@require_GET
def permit_pdf(request: HttpRequest, municipality: str, number: str) -> FileResponse:
    """The issued permit's PDF, byte for byte as issued."""
    permit = (
        OccupancyPermit.objects.select_related("municipality")
        .filter(municipality__slug=municipality, number=number)
        .first()
    )
    if permit is None:
        raise Http404("No such occupancy permit.")
    access.check(request.user, permit.municipality_id, None)
    response = FileResponse(
        permit.pdf.open("rb"), content_type="application/pdf", filename=f"{permit.number}.pdf"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
