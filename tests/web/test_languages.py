"""Choosing the language of the patient pages: the switcher's ?lang=, the lang cookie, the
browser's Accept-Language, then English; only offered languages; <html lang>; the switcher's
links keep the person's place and answers; staff pages stay English."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import i18n
from app.config import Settings
from app.i18n import LANG_COOKIE
from app.main import create_app
from tests.fixtures import EXAMPLE_ANSWERS as SELF_CARE_ANSWERS
from tests.fixtures import record_assessment, record_v1_assessment
from tests.support.settings import settings_with

from .helpers import FIRST_PAGE, answer

PSEUDO_TITLE = "Ļöŵ ƀàçķ þàîñ çĥéçķ"  # "Low back pain check" in en-XA


def html_lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', html)
    assert found
    return found.group(1)


def test_english_by_default(client: TestClient) -> None:
    page = client.get("/")
    assert html_lang(page.text) == "en-GB"
    assert "Low back pain check" in page.text
    assert LANG_COOKIE not in page.cookies


def test_the_switchers_link_sets_the_cookie_and_shows_the_page_in_that_language(
    client: TestClient,
) -> None:
    page = client.get("/about?lang=en-XA")
    assert page.status_code == 200
    assert html_lang(page.text) == "en-XA"
    assert PSEUDO_TITLE in page.text
    cookie = next(v for k, v in page.headers.multi_items() if k == "set-cookie" and "lang=" in v)
    assert cookie.startswith("lang=en-XA;")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"max-age", "path", "samesite", "httponly"} <= attributes
    for attribute in ("Max-Age=31536000", "SameSite=Lax", "Path=/", "HttpOnly"):
        assert attribute in cookie
    assert "secure" not in attributes  # not on https here (production sets it: below)
    # The cookie keeps the choice on the next page, without the query.
    assert html_lang(client.get("/privacy").text) == "en-XA"


def test_the_query_outranks_the_cookie_which_outranks_the_browser(client: TestClient) -> None:
    client.cookies.set(LANG_COOKIE, "en-XA")
    assert html_lang(client.get("/", headers={"accept-language": "en"}).text) == "en-XA"
    assert html_lang(client.get("/?lang=en").text) == "en-GB"
    # ... and choosing English by the link replaces the cookie.
    assert html_lang(client.get("/").text) == "en-GB"


def test_the_browsers_accept_language_is_used_without_a_choice(client: TestClient) -> None:
    page = client.get("/", headers={"accept-language": "de-DE, en-XA;q=0.8, en;q=0.5"})
    assert html_lang(page.text) == "en-XA"
    assert "lang=" not in page.headers.get("set-cookie", "")  # a browser's wish is not a choice
    assert html_lang(client.get("/", headers={"accept-language": "de, fr;q=0.9"}).text) == "en-GB"


@pytest.mark.parametrize("wish", ["xx", "de", "en-XA-bogus", "", "../../etc"])
def test_an_unknown_language_is_ignored(client: TestClient, wish: str) -> None:
    page = client.get("/", params={"lang": wish})
    assert page.status_code == 200
    assert html_lang(page.text) == "en-GB"
    assert "lang=" not in page.headers.get("set-cookie", "")


def test_a_bad_cookie_is_ignored(client: TestClient) -> None:
    client.cookies.set(LANG_COOKIE, "klingon")
    page = client.get("/", headers={"accept-language": "en-XA"})
    assert html_lang(page.text) == "en-XA"


@pytest.fixture
def no_drafts(settings: Settings) -> Iterator[TestClient]:
    """The app as production has it by default: draft languages (en-XA) not offered."""
    application = create_app(settings_with(settings, languages={"offer_draft": False}))
    with TestClient(application) as test_client:
        yield test_client
    application.state.engine.dispose()


def test_a_draft_language_is_not_offered_when_the_setting_is_off(no_drafts: TestClient) -> None:
    pages = [
        no_drafts.get("/?lang=en-XA"),
        no_drafts.get("/", headers={"accept-language": "en-XA"}),
    ]
    no_drafts.cookies.set(LANG_COOKIE, "en-XA")
    pages.append(no_drafts.get("/"))
    for page in pages:
        assert html_lang(page.text) == "en-GB"
        assert PSEUDO_TITLE not in page.text
        # English alone: no switcher.
        assert 'class="languages"' not in page.text
        assert "lang=" not in page.headers.get("set-cookie", "")


def test_the_cookie_is_secure_in_production(settings: Settings) -> None:
    application = create_app(settings_with(settings, environment="production"))
    with TestClient(application, base_url="https://testserver") as test_client:
        page = test_client.get("/?lang=en")  # production offers no pseudo-locale
    application.state.engine.dispose()
    cookie = next(v for k, v in page.headers.multi_items() if k == "set-cookie" and "lang=" in v)
    assert "Secure" in cookie


def test_every_patient_page_has_the_switcher_each_language_named_in_itself(
    client: TestClient,
) -> None:
    page = client.get("/").text
    nav = re.search(r'<nav class="languages".*?</nav>', page, flags=re.DOTALL)
    assert nav
    assert (
        '<a class="languages__link" href="?lang=en-XA" hreflang="en-XA" lang="en-XA">Ƥšéûðö</a>'
        in nav.group()
    )
    assert 'lang="en-GB" aria-current="true">English</span>' in nav.group()


def test_the_switcher_keeps_the_place_and_the_answers(client: TestClient) -> None:
    """The links go to the same page with ?lang= (its query kept): the answers already sent
    are in the server's draft, so the page in the other language shows them."""
    assert answer(client, "", FIRST_PAGE, {"age": 42}).status_code == 303
    page = client.get(f"/questions/{FIRST_PAGE}")
    assert 'href="?lang=en-XA"' in page.text
    switched = client.get(f"/questions/{FIRST_PAGE}?lang=en-XA")
    assert html_lang(switched.text) == "en-XA"
    assert re.search(r'id="age"[^>]*value="42"', switched.text)
    # The form goes on in the new language, and the next page is in it.
    sent = answer(client, "", FIRST_PAGE, {"age": 43})
    assert sent.status_code == 303
    assert html_lang(client.get(sent.headers["location"]).text) == "en-XA"
    # A query the page had is kept beside lang.
    again = client.get(f"/questions/{FIRST_PAGE}?change=1")
    assert 'href="?change=1&amp;lang=en"' in again.text


def test_staff_pages_stay_english(client: TestClient) -> None:
    client.cookies.set(LANG_COOKIE, "en-XA")
    page = client.get("/staff/login", headers={"accept-language": "en-XA"})
    assert html_lang(page.text) == "en-GB"
    assert 'class="languages"' not in page.text


def test_the_app_offers_the_languages_it_has(app: FastAPI) -> None:
    codes = [language.code for language in app.state.languages]
    assert codes[0] == "en"
    assert "en-XA" in codes  # tests offer drafts


def test_a_result_that_cannot_be_given_in_the_language_is_english_and_marked_so(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    """A result of version 1.0.0 (no translation): its texts in English, each passage marked
    lang="en-GB" inside the en-XA page, whose own words stay en-XA."""
    recorded = record_v1_assessment(db, app.state.registry, channel="web")
    db.commit()
    client.cookies.set(LANG_COOKIE, "en-XA")
    page = client.get(f"/result/{recorded.result_token}").text
    assert html_lang(page) == "en-XA"
    title = recorded.result["triage"]["title"]
    assert f'class="outcome__title" lang="en-GB">{title}<' in page
    assert f'class="outcome__advice" lang="en-GB">{recorded.result["triage"]["advice"]}<' in page
    with i18n.language("en-XA"):
        own_words = i18n.gettext("Keep this result")
    assert f'<h2 class="heading-m">{own_words}</h2>' in page  # not marked: the page's language


def test_a_result_in_the_language_is_not_marked(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    recorded = record_assessment(db, app.state.registry.default, SELF_CARE_ANSWERS, channel="web")
    db.commit()
    client.cookies.set(LANG_COOKIE, "en-XA")
    page = client.get(f"/result/{recorded.result_token}").text
    assert 'lang="en-GB">' not in page.replace('hreflang="en-GB" lang="en-GB">English', "")


def test_where_the_call_button_comes_first_the_switcher_waits_in_the_footer(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    """In the header the switcher took rows above an urgent result's call button at 320 px and
    200% text (tests/browser/test_outcome_pages.py measures it); there it goes to the footer."""
    urgent = record_assessment(
        db, app.state.registry.default, {**SELF_CARE_ANSWERS, "fever": True}, channel="web"
    )
    calm = record_assessment(db, app.state.registry.default, SELF_CARE_ANSWERS, channel="web")
    db.commit()
    assert urgent.result["triage"]["level"] == "urgent"
    for recorded, where in ((urgent, "footer"), (calm, "header")):
        page = client.get(f"/result/{recorded.result_token}").text
        (nav,) = re.findall(r'<nav class="languages[^"]*"', page)
        part = page.split('<footer class="site-footer">')
        assert (nav in part[1]) == (where == "footer"), where
        assert ("languages--footer" in nav) == (where == "footer")
