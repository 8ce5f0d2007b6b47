"""Project routes."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from orchestrator import projects as service
from orchestrator.api.deps import Admin, ContextDep, Reader, ReadSessionDep, SessionDep
from orchestrator.api.schemas import ProjectCreated, ProjectIn, ProjectOut, SecretsIn
from orchestrator.db.models import Project

router = APIRouter(prefix="/api/projects", tags=["projects"])


def project_out(p: Project) -> ProjectOut:
    return ProjectOut(
        name=p.name,
        repo_url=service.shown_repo_url(p),
        match=p.match_name,
        default_branch=p.default_branch,
        secret_names=sorted(p.secrets),
        created_at=p.created_at,
    )


@router.post("", status_code=201, response_model=ProjectCreated)
def create_project(body: ProjectIn, session: SessionDep, ctx: ContextDep, _: Admin) -> ProjectCreated:
    try:
        project = service.create_project(
            session,
            sealer=ctx.sealer,
            name=body.name,
            repo_url=body.repo_url,
            match_name=body.match,
            webhook_secret=body.webhook_secret,
            secrets=body.secrets,
            default_branch=body.default_branch,
        )
    except service.ProjectExists as exc:
        raise HTTPException(409, str(exc)) from exc
    except service.ProjectError as exc:
        raise HTTPException(422, str(exc)) from exc
    session.commit()
    return ProjectCreated(
        **project_out(project).model_dump(), webhook_secret=service.webhook_secret(project, ctx.sealer)
    )


@router.get("", response_model=list[ProjectOut])
def list_projects(session: ReadSessionDep, _: Reader) -> list[ProjectOut]:
    return [project_out(p) for p in service.list_projects(session)]


@router.get("/{name}", response_model=ProjectOut)
def get_project(name: str, session: ReadSessionDep, _: Reader) -> ProjectOut:
    try:
        return project_out(service.get_project(session, name))
    except service.ProjectNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.put("/{name}/secrets", response_model=ProjectOut)
def update_secrets(name: str, body: SecretsIn, session: SessionDep, ctx: ContextDep, _: Admin) -> ProjectOut:
    try:
        project = service.update_secrets(
            session, service.get_project(session, name), body.set, body.unset, sealer=ctx.sealer
        )
    except service.ProjectNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except service.ProjectError as exc:
        raise HTTPException(422, str(exc)) from exc
    session.commit()
    return project_out(project)
