"""Import a district's spreadsheets (an .xlsx or a .zip of CSVs) through a worker, with a progress bar and
then the row-level error report or the counts; and export the whole district as the same files."""

import io
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from crm.constants import Role
from crm.district_io import FILES, district_export
from crm.web.access import roles_required
from crm.web.forms import ImportForm
from crm.web.fragments import fragment_of
from crm.web.jobs import FINISHED, import_job_start, job_state

RECENT = 10  # the last jobs a user started, kept in their session
MULTIPART_OVERHEAD = 64 * 1024  # the form's boundaries and other fields around the file itself


def _declared_too_large(request) -> bool:
    # Refused on the length the browser declares, before Django spools the upload to disk.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.IMPORT_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD


@roles_required(Role.DISTRICT_ADMIN)
def import_page(request):
    if request.method == "POST" and _declared_too_large(request):
        form = ImportForm()
        form.add_error("file", ImportForm.too_large_message())
    else:
        form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        job_id = import_job_start(name=upload.name, content=upload.read(), user_id=request.user.pk)
        request.session["import_jobs"] = [job_id, *request.session.get("import_jobs", [])][:RECENT]
        return redirect("web:import_job", job_id=job_id)
    recent = []
    for job_id in request.session.get("import_jobs", []):
        state = job_state(job_id)
        if state is not None:
            recent.append({"id": job_id, **state})
    return render(
        request,
        "web/import.html",
        {"form": form, "recent": recent, "files": [spec.name for spec in FILES]},
    )


def _job(request, job_id: str) -> dict:
    state = job_state(job_id)
    # A job is its starter's: another user gets the same 404 as for a job that never was.
    if state is None or state.get("user_id") != request.user.pk:
        raise Http404
    return {"id": job_id, **state, "finished": state["state"] in FINISHED}


@roles_required(Role.DISTRICT_ADMIN)
def import_job(request, job_id: str):
    return render(request, "web/import_job.html", {"job": _job(request, job_id)})


@roles_required(Role.DISTRICT_ADMIN)
@fragment_of("web:import_job")
def import_progress(request, job_id: str):
    """The progress bar (polled by htmx each second until the job has finished) and then its outcome."""
    return render(request, "web/_import_progress.html", {"job": _job(request, job_id)})


@roles_required(Role.DISTRICT_ADMIN)
def export_district_zip(request):
    """The whole district as the CSV files of import-format.md in one .zip (UTF-8 with BOM for Excel)."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as directory:
        district_export(directory=directory, bom=True, by=request.user)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for spec in FILES:
                archive.write(Path(directory) / spec.name, arcname=spec.name)
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="district-{stamp}.zip"'
    return response
