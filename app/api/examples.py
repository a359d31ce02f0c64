"""The example answers and records shown in the OpenAPI document (kept small; the tests check
that they fit the models). Tests and benchmarks use the same answer sets (tests/fixtures.py)."""

from __future__ import annotations

from typing import Any

from app.engine import Result

SAFETY_ALL_NO: dict[str, Any] = {
    "age": 42,
    "saddle_numbness": False,
    "bladder_change": False,
    "bowel_change": False,
    "sexual_function_change": False,
    "both_legs": False,
    "chest_pain": False,
    "serious_accident": "no",
    "leg_weakness": False,
    "walking_difficulty": False,
    "fever": False,
    "weight_loss": False,
    "night_pain": False,
    "pain_on_straining": False,
    "thoracic_pain": False,
    "back_shape_change": False,
    "abdominal_pain": False,
    "cancer_history": False,
    "osteoporosis_or_steroids": False,
    "infection_risk": False,
    "pregnant": False,
}
EXAMPLE_ANSWERS: dict[str, Any] = {
    **SAFETY_ALL_NO,
    "pain_duration": "6_to_12_weeks",
    "first_episode": False,
    "onset": "gradual",
    "pain_trend": "same",
    "seen_about_this_pain": True,
    "pain_intensity": 4,
    "peg_enjoyment": 3,
    "peg_activity": 4,
    "leg_pain": "none",
    "leg_numbness": False,
    "spine_diagnosis": ["none"],
    "knows_height_weight": True,
    "height_cm": 175,
    "weight_kg": 82,
    "activity_minutes_week": 60,
    "strength_days_week": 0,
    "stretching_frequency": "rarely",
    "plays_sports": False,
    "lifts_weights": False,
    "sleep_hours": 6.5,
    "sleep_quality": "fair",
    "wakes_stiff": True,
    "sitting_hours": 9,
    "sitting_breaks": "rarely",
    "hunched_posture": True,
    "smoker": False,
    "joint_problems": ["none"],
    "falls_or_unsteady": False,
    "hypermobile": False,
    "squat_check": "with_support",
    "bridge_check": "two_leg_easy",
    "hang_check": "under_20_s",
    "sides_differ": False,
}
EXAMPLE_EMERGENCY_RESULT: Result = {
    "questionnaire": {"id": "low-back-audit", "version": "2.1.0"},
    "complete": True,
    "triage": {
        "level": "emergency",
        "title": "Get medical help now",
        "advice": "Call 999 now, or go to the nearest A&E (emergency department). …",
        "clinician": "Emergency: possible serious spinal pathology or another emergency",
        "action": "Contact the patient now. Same-day emergency assessment (999 or A&E); …",
        "reasons": [
            {
                "code": "cauda_equina_saddle",
                "level": "emergency",
                "message": "Numbness or a changed feeling between your legs or around your"
                " bottom can mean that the bundle of nerves at the bottom of your spine is"
                " being squeezed. …",
                "clinician": "Possible cauda equina syndrome: saddle anaesthesia or paraesthesia",
                "action": "Contact the patient now; same-day emergency spinal assessment (A&E).",
            }
        ],
    },
    "contributors": [],
    "plan": None,
    "release": None,
    "ignored_answers": [],
    "safety_net": {
        "title": "Call 999 or go to A&E straight away if you get any of these",
        "signs": ["Numbness or a strange feeling between your legs, …"],
        "action": "These can be signs that the nerves at the bottom of your spine are being"
        " squeezed, …",
        "see_gp": None,
    },
}
EXAMPLE_SELF_CARE_RESULT: Result = {
    "questionnaire": {"id": "low-back-audit", "version": "2.1.0"},
    "complete": True,
    "triage": {
        "level": "self_care",
        "title": "You can start the programme",
        "advice": "Nothing in your answers means you need to see a doctor before you start. …",
        "clinician": "No red flags reported: supported self-management",
        "action": "No action needed before the home programme. …",
        "reasons": [],
    },
    "contributors": [
        {
            "code": "sitting",
            "score": 3,
            "label": "Sitting",
            "why": "You sit for about 9 hours on a usual day. …",
            "advice": "Change position often, and stand up and move for a minute or two every"
            " 30 minutes. …",
        }
    ],
    "plan": {
        "blocks": [
            {
                "code": "pelvic_tilts",
                "title": "Pelvic tilts",
                "summary": "Gently rock your hips forward and back. …",
                "focus": True,
                "relevance": 9,
                "start_step": 0,
                "steps": [
                    {
                        "code": "lying",
                        "title": "Lying pelvic tilt",
                        "how": "Lie on your back with your knees bent and your feet flat. …",
                        "cues": ["Move slowly, both ways."],
                        "mistakes": ["Lifting your bottom off the floor."],
                        "progress_when": "When all your sets feel easy, move on to the"
                        " kneeling tilt.",
                        "image": "pelvic_tilts-lying.svg",
                        "image_alt": "A person lying on their back with knees bent. …",
                        "allowed": True,
                        "cautions": [],
                    }
                ],
                "dose": "1–3 sets of 8–12 slow tilts, every day",
            }
        ],
        "advice": ["Stay active and keep up your daily activities, and keep working if you can. …"],
        "dropped": [],
    },
    "release": None,
    "ignored_answers": [],
    "safety_net": {
        "title": "Call 999 or go to A&E straight away if you get any of these",
        "signs": ["Numbness or a strange feeling between your legs, …"],
        "action": "These can be signs that the nerves at the bottom of your spine are being"
        " squeezed, …",
        "see_gp": "See a GP if your back pain is not clearly better after about 4 weeks of"
        " the plan, …",
        "today": {
            "title": "Speak to a GP today, or call 111, if you get any of these",
            "signs": ["A high temperature, or you feel hot and shivery.", "…"],
        },
    },
}
EXAMPLE_RECORD: dict[str, Any] = {
    "id": "0f8b8a52-3c0e-4d53-9a53-2f4f1b0a6c11",
    "created_at": "2026-11-24T09:30:00Z",
    "channel": "api",
    "result": EXAMPLE_SELF_CARE_RESULT,
}

# A check-in (app/api/checkins.py): its answers, and the record stored for them.
CHECKIN_ANSWERS: dict[str, Any] = {
    **dict.fromkeys(
        ["saddle_numbness", "bladder_change", "bowel_change", "sexual_function_change",
         "both_legs", "chest_pain", "leg_weakness", "walking_difficulty", "fever", "weight_loss",
         "night_pain", "pain_on_straining", "thoracic_pain", "back_shape_change"],
        False,
    ),
    "pain_now": 3, "peg_pain": 3, "peg_enjoyment": 2, "peg_activity": 3,
    "global_change": "a_little_better", "hip_bridge_days": 5, "hip_bridge_feel": "too_easy",
}  # fmt: skip
EXAMPLE_CHECKIN: dict[str, Any] = {
    "id": "6a0e2c1f-7d4b-4b8a-9c1e-3f5d2a9b7c10",
    "assessment_id": "0f8b8a52-3c0e-4d53-9a53-2f4f1b0a6c11",
    "created_at": "2026-12-08T09:30:00Z",
    "result": {
        "questionnaire": {"id": "low-back-checkin", "version": "1.0.0"},
        "complete": True,
        "triage": {"level": "self_care", "title": "Keep going with your plan", "reasons": []},
        "plan": {"blocks": ["…"], "advice": ["…"], "dropped": []},
        "changes": [
            {
                "block": "hip_bridge",
                "from_step": "two_leg",
                "to_step": "single_leg",
                "paused": False,
                "why": "Hip bridge: moving on to Single-leg bridge: you found Two-leg bridge too"
                " easy on 5 days.",
            }
        ],
        "trend": [
            {"at": "2026-11-24T09:30:00+00:00", "pain": 4, "peg": None},
            {"at": "2026-12-08T09:30:00+00:00", "pain": 3, "peg": 2.7},
        ],
    },
}

# FHIR in (app/api/fhir_in.py): an emergency stop as a QuestionnaireResponse, as the README
# shows it. Without a version in `questionnaire`, the current version is meant.
EXAMPLE_QUESTIONNAIRE_RESPONSE: dict[str, Any] = {
    "resourceType": "QuestionnaireResponse",
    "questionnaire": "http://127.0.0.1:8000/api/v1/questionnaires/low-back-audit",
    "status": "completed",
    "item": [
        {
            "linkId": "section-safety",
            "item": [
                {"linkId": "page-about_you", "item": [
                    {"linkId": "age", "answer": [{"valueInteger": 52}]},
                ]},
                {"linkId": "page-emergency_signs", "item": [
                    {"linkId": "saddle_numbness", "answer": [{"valueBoolean": True}]},
                    {"linkId": "bladder_change", "answer": [{"valueBoolean": False}]},
                    {"linkId": "bowel_change", "answer": [{"valueBoolean": False}]},
                    {"linkId": "sexual_function_change", "answer": [{"valueBoolean": False}]},
                ]},
            ],
        }
    ],
}  # fmt: skip
EXAMPLE_RISK_ASSESSMENT: dict[str, Any] = {
    "resourceType": "RiskAssessment",
    "status": "final",
    "prediction": [
        {
            "outcome": {"coding": [{"system": "urn:backaudit:triage-level", "code": "self_care"}]},
            "qualitativeRisk": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/risk-probability",
                        "code": "low",
                    }
                ]
            },
        }
    ],
}
