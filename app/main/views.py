"""Home page (live counts) and the health check."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_required

from app.domain.roles import Role
from app.extensions import csrf, limiter
from app.htmx import render
from app.main import bp
from app.services import dashboard, health


@bp.get("/")
@login_required
def home():
    counts = dashboard.home_counts()
    scheduler = health.scheduler_health() if current_user.has_role(Role.MANAGER, Role.ADMIN) else None
    return render("main/home.html", block="counts", counts=counts, scheduler=scheduler)


@bp.get("/healthz")
@csrf.exempt
@limiter.exempt
def healthz():
    """Public on purpose (load balancers): it reveals no data, only liveness."""
    db_ok = health.database_ok()
    body = {"database": "ok" if db_ok else "unavailable"}
    if db_ok:
        sched = health.scheduler_health()
        body["scheduler"] = {
            "status": sched.status,
            "last_heartbeat": sched.last_heartbeat.isoformat() if sched.last_heartbeat else None,
            "age_seconds": sched.age_seconds,
            "jobs": {
                j.name: {
                    "last_run": j.last_finished_at.isoformat() if j.last_finished_at else None,
                    "status": j.last_status,
                }
                for j in sched.jobs
            },
        }
    body["status"] = "ok" if db_ok and body["scheduler"]["status"] == "ok" else ("degraded" if db_ok else "down")
    return jsonify(body), 200 if db_ok else 503
