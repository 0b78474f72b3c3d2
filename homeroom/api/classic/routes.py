"""The classic API's router: the generic collection routes of its resources, the documented collection-level PUT,
and the profile actions ``uploadUrl``, ``start``, ``pause``, ``resume`` and ``reset`` (spec §2.2, §2.11, §2.12).

``start`` answers ``200`` with the verification messages in both cases (the SDK models its answer as that
collection): with an ``Error`` nothing runs and the profile's status is ``validationError``; with only warnings the
synchronization starts. Its files are the ones uploaded to the profile's current ``uploadUrl`` container, which the
start consumes (the next ``uploadUrl`` gives a new, empty one).
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select

from homeroom.api.calls import base_url, call, read_body
from homeroom.api.classic.resources import EDUCATION_SYNC, ERRORS, PROFILES, SYNC, WRITE
from homeroom.api.classic.verification import verification_messages
from homeroom.api.collections import ERROR_RESPONSES, add_collection_routes, add_contained_routes, entity_json, json_response
from homeroom.api.errors import BadRequest
from homeroom.api.responses import GraphJSON
from homeroom.classic import profiles, providers
from homeroom.errors import ConflictError
from homeroom.runs import Runner
from homeroom.store.models import EducationSyncError, EducationSyncProfile, UploadSession, utc, utcnow
from homeroom.store.references import tenant_reference_data
from homeroom.uploads.sas import session_url
from homeroom.uploads.sessions import claim_session, current_session

#: How long an ``uploadUrl`` signature is valid (spec §2.12).
UPLOAD_URL_LIFETIME = timedelta(hours=1)
_BASE = f"{EDUCATION_SYNC.base}/{PROFILES.name}"


def _startable(profile: EducationSyncProfile) -> None:
    """Refuse to synchronize a profile that cannot: not provisioned, expired, or a provider Homeroom cannot read."""
    profiles.require_provisioned(profile)
    if profiles.is_expired(profile, utcnow().date()):
        raise BadRequest(f"The profile expired on {profile.expiration_date.isoformat()}; set a later expirationDate "
                         "(PATCH the profile) to synchronize it again.")
    kind = profile.data_provider["kind"]
    if kind == providers.ONEROSTER:
        providers.oneroster_batch(profile)
    if kind == providers.POWERSCHOOL:
        providers.powerschool_batch(profile)


def _refusals(result) -> list[dict[str, str]]:
    """Package refusals (a required file or column missing, an unreadable file) as Error messages: classic SDS had no
    template for them, so their description is Homeroom's finding message."""
    stopping = result.findings.filter(result.findings["level"].is_in(["catastrophic"]))
    return [{"type": "Error", "fileName": (f["file"] or "").lower(), "description": f["message"]} for f in stopping.iter_rows(named=True)]


def _synchronize(request: Request, db, profile: EducationSyncProfile, result) -> tuple:
    """Record a synchronization of the profile's package; what the job needs."""
    state = request.app.state
    runner = Runner(profile.tenant_id, state.settings, state.sessions)
    run_id = profiles.begin_sync(db, profile, runner, result)
    return runner, profile.id, run_id, profiles.format_options(profile)


def _submit(request: Request, job: tuple | None) -> None:
    if job is not None:
        state = request.app.state
        state.executor.submit("runs", profiles.run_sync, state.sessions, *job)


def _resynchronize(request: Request, db, profile: EducationSyncProfile) -> tuple | None:
    """Synchronize the profile's last verified files again (``resume``, ``reset``); None when it has none."""
    if not profile.package:
        profile.status, profile.status_message = "paused", "Not started: upload the files to the profile's uploadUrl, then call start."
        return None
    _startable(profile)
    result = profiles.verify(profile, Path(profile.package), request.app.state.settings,
                             tenant_reference_data(db=db, tenant_id=profile.tenant_id))
    return _synchronize(request, db, profile, result)


def add_profile_actions(router: APIRouter) -> None:
    """The collection-level PUT and the actions of a profile (before the generic routes)."""
    tag = [PROFILES.name]

    async def put_profile(request: Request) -> JSONResponse:
        raw = await read_body(request)

        def work(db, principal):
            row = PROFILES.replace(db=db, tenant_id=principal.tenant_id, raw=raw)
            return entity_json(request, db, principal, EDUCATION_SYNC, PROFILES, row, PROFILES.name)
        body = await call(request, WRITE, work)
        PROFILES.accepted(request.app.state, body["id"])
        return GraphJSON(body, status_code=202)

    async def upload_url(request: Request, key: str) -> JSONResponse:
        state = request.app.state

        def work(db, principal):
            profile = PROFILES.get(db=db, tenant_id=principal.tenant_id, key=key)
            if profile.data_provider["kind"] != providers.CSV:
                raise BadRequest(f"uploadUrl is for profiles with an {providers.CSV}; this profile's data provider is an "
                                 f"{profile.data_provider['kind']}.")
            connector = profiles.connector_of(db, profile)
            if db.scalar(select(UploadSession.id).where(UploadSession.connector_id == connector.id, UploadSession.state == "validating")):
                raise ConflictError("A previous upload of this profile is still being processed; ask again when start has answered.")
            session = current_session(db, connector=connector, store=state.blob_store, settings=state.settings, reset=False)
            expires = min(utcnow() + UPLOAD_URL_LIFETIME, utc(session.session_expires))
            base = state.public_url or str(request.base_url).rstrip("/")
            return {"@odata.context": f"{base_url(request)}/$metadata#String",
                    "value": session_url(base, session.id, expires, state.sas_key, permissions="w")}
        return GraphJSON(await call(request, WRITE, work))

    async def start(request: Request, key: str) -> JSONResponse:
        state = request.app.state

        def work(db, principal):
            profile = PROFILES.get(db=db, tenant_id=principal.tenant_id, key=key)
            _startable(profile)
            connector = profiles.connector_of(db, profile)
            session_id = claim_session(db, connector=connector)
            if session_id is None or not state.blob_store.list_blobs(session_id):
                raise BadRequest("No files were uploaded: GET the profile's uploadUrl, upload the classic CSV files "
                                 "(School.csv, Section.csv, Student.csv, Teacher.csv, StudentEnrollment.csv, TeacherRoster.csv), "
                                 "then call start.")
            dest = profiles.package_folder(state.settings, profile, session_id)
            try:
                state.blob_store.copy_out(session_id, dest)
                result = profiles.verify(profile, dest, state.settings, tenant_reference_data(db=db, tenant_id=profile.tenant_id))
                messages = _refusals(result) + verification_messages(result)
                db.get(UploadSession, session_id).state = "consumed"
                if any(m["type"] == "Error" for m in messages):
                    profiles.record_verification_failure(profile, messages)
                    shutil.rmtree(dest, ignore_errors=True)
                    return messages, None, session_id
                previous, profile.package = profile.package, str(dest)
                job = _synchronize(request, db, profile, result)
            except BaseException:
                shutil.rmtree(dest, ignore_errors=True)
                raise
            if previous and previous != profile.package:
                shutil.rmtree(previous, ignore_errors=True)
            return messages, job, session_id
        messages, job, session_id = await call(request, SYNC, work)
        state.blob_store.delete_container(session_id)  # consumed: the next uploadUrl gives a new container
        _submit(request, job)
        return GraphJSON({"@odata.context": f"{base_url(request)}/$metadata#education/Collection(microsoft.graph.verificationMessage)",
                          "value": messages})

    async def pause(request: Request, key: str) -> Response:
        def work(db, principal):
            profile = PROFILES.get(db=db, tenant_id=principal.tenant_id, key=key)
            profiles.require_provisioned(profile)
            profiles.pause(profile)
        await call(request, SYNC, work)
        return Response(status_code=200)

    async def resume(request: Request, key: str) -> Response:
        def work(db, principal):
            profile = PROFILES.get(db=db, tenant_id=principal.tenant_id, key=key)
            profiles.require_provisioned(profile)
            if profile.status != "paused" or profile.paused_status in (None, "paused"):
                if profile.status == "paused" and profile.paused_status == "paused":
                    profile.paused_status = None  # paused before its first start: nothing to continue
                return None
            return _resynchronize(request, db, profile)
        _submit(request, await call(request, WRITE, work))
        return Response(status_code=200)

    async def reset(request: Request, key: str) -> Response:
        def work(db, principal):
            profile = PROFILES.get(db=db, tenant_id=principal.tenant_id, key=key)
            profiles.require_provisioned(profile)
            db.execute(delete(EducationSyncError).where(EducationSyncError.profile_id == profile.id))
            return _resynchronize(request, db, profile)
        _submit(request, await call(request, SYNC, work))
        return Response(status_code=200)

    ok = {**ERROR_RESPONSES, 200: {"description": "Done, no body"}, 409: json_response("Not provisioned, or a run in progress", {})}
    router.add_api_route(_BASE, put_profile, methods=["PUT"], tags=tag, summary="Replace a synchronization profile",
                         status_code=202, description=f"Permissions: {', '.join(WRITE)} (delegated). The body restates the "
                         "profile whole, with its id; answers 202 with the profile, provisioning again.")
    router.add_api_route(f"{_BASE}/{{key}}/uploadUrl", upload_url, methods=["GET"], tags=tag, summary="Get the upload URL of a profile",
                         responses={**ERROR_RESPONSES, 200: json_response("The signed container URL (write-only, one hour)", {}),
                                    409: json_response("A previous upload is still being processed", {})},
                         description=f"Permissions: {', '.join(WRITE)} (delegated). Upload the classic CSV files there with "
                         "azure-storage-blob or AzCopy.")
    router.add_api_route(f"{_BASE}/{{key}}/start", start, methods=["POST"], tags=tag, summary="Verify the uploaded files and synchronize",
                         responses={**ERROR_RESPONSES, 200: json_response("The verification messages", {})},
                         description=f"Permissions: {', '.join(SYNC)}. With any Error message nothing runs.")
    for name, handler, perms, summary in (("pause", pause, SYNC, "Pause a profile's synchronization"),
                                          ("resume", resume, WRITE, "Resume a paused profile"),
                                          ("reset", reset, SYNC, "Reset a profile: clear its errors and synchronize again")):
        router.add_api_route(f"{_BASE}/{{key}}/{name}", handler, methods=["POST"], tags=tag, summary=summary, status_code=200,
                             response_class=Response, responses=ok, description=f"Permissions: {', '.join(perms)}.")


def classic_router() -> APIRouter:
    """Every route of the classic education synchronization API."""
    router = APIRouter()
    add_profile_actions(router)
    add_collection_routes(router, EDUCATION_SYNC, PROFILES)
    add_contained_routes(router, EDUCATION_SYNC, PROFILES, ERRORS)
    for route in router.routes:  # stable operation ids from the summaries, as industryData's
        words = "".join(c if c.isalnum() else " " for c in route.summary).split()
        route.operation_id = "classic" + "".join(w[:1].upper() + w[1:] for w in words)
    return router
