"""How tests/data/release-1.sql was made: run with release 1's code (commit 91dfabf), e.g.

    git worktree add /tmp/v1 91dfabf && cd /tmp/v1 && PYTHONPATH=/tmp/v1 python make_release_1.py

then dump /tmp/v1db/release1.db with Python's sqlite3 ``iterdump``. A SQLite database holding
1.0.0 submissions, as release 1 stored them.
"""

import json
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app.api.examples import EXAMPLE_ANSWERS
from app.db import make_engine
from app.engine import evaluate, load_questionnaire
from app.migrate import upgrade
from app.services import accounts, api_keys, assessments, clinics

out = Path("/tmp/v1db")
engine = make_engine(f"sqlite:///{out / 'release1.db'}")
upgrade(engine)
q = load_questionnaire("questionnaires/low-back-audit.yaml")

secrets: dict[str, Any] = {}
with Session(engine) as s:
    clinic = clinics.create_clinic(s, name="Release One Clinic")
    user, _ = accounts.create_user(
        s,
        clinic_id=clinic.id,
        email="clinician@example.org",
        role="clinician",
        password="release-one-password",
    )
    client, key = api_keys.create_api_key(s, name="Release one app", clinic_id=clinic.id)
    secrets["api_key"] = key
    web = assessments.record(s, evaluate(q, EXAMPLE_ANSWERS), channel="web")
    secrets["self_care"] = {"id": str(web.id), "token": web.result_token}
    emergency = assessments.record(
        s,
        evaluate(q, {**EXAMPLE_ANSWERS, "major_trauma": True}),
        channel="api",
        api_client_id=client.id,
        clinic_id=clinic.id,
    )
    secrets["emergency"] = {"id": str(emergency.id)}
    minor = {
        **EXAMPLE_ANSWERS,
        "onset": "after_minor_injury",
        "leg_weakness_worsening": False,
        "pain_duration": "under_6_weeks",
    }
    see = assessments.record(
        s, evaluate(q, minor), channel="api", api_client_id=client.id, clinic_id=clinic.id
    )
    secrets["see_doctor"] = {"id": str(see.id), "level": see.result["triage"]["level"]}
    s.commit()
(out / "secrets.json").write_text(json.dumps(secrets, indent=2))
print(secrets)
