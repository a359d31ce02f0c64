"""/api/docs: the API reference as a plain server-rendered page.

Swagger UI would need a CDN (or a bundled copy) and inline script, both of which the site's
Content-Security-Policy forbids, so this page lists every operation from the same OpenAPI
document that /api/v1/openapi.json serves, with its examples: no JavaScript at all.
"""

from __future__ import annotations

import json
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.templating import help_lines_of, templates

from .openapi import api_openapi

router = APIRouter()

_METHODS: Final = ("get", "post", "put", "patch", "delete")
_PAGE: Final = templates.env.from_string(
    """{% extends "base.html" %}
{% block title %}JSON API{% endblock %}
{% block main %}
<h1>{{ doc.info.title }}</h1>
<p>Version {{ doc.info.version }}. The machine-readable description is the OpenAPI document at
<a href="{{ openapi_url }}"><code>{{ openapi_url }}</code></a>: load it into any OpenAPI tool
to generate a client or try the requests.</p>
{% for paragraph in doc.info.description.split("\\n\\n") %}<p>{{ paragraph }}</p>{% endfor %}
<h2>Operations</h2>
<ul>
{% for op in operations %}<li><a href="#{{ op.anchor }}"><code>{{ op.method }} {{ op.path }}</code></a> — {{ op.summary }}</li>
{% endfor %}</ul>
{% for op in operations %}
<section id="{{ op.anchor }}">
  <h2><code>{{ op.method }} {{ op.path }}</code></h2>
  <p><strong>{{ op.summary }}</strong>{% if op.key %} — needs an API key{% else %} — no key needed{% endif %}</p>
  {% if op.description %}<p>{{ op.description }}</p>{% endif %}
  {% if op.parameters %}<h3>Parameters</h3><ul>
    {% for p in op.parameters %}<li><code>{{ p.name }}</code> ({{ p["in"] }}{% if p.required %}, required{% endif %}){% if p.description %}: {{ p.description }}{% endif %}</li>{% endfor %}
  </ul>{% endif %}
  {% for name, example in op.request_examples %}<h3>Request body example{% if name %}: {{ name }}{% endif %}</h3>
  <pre><code>{{ example }}</code></pre>{% endfor %}
  <h3>Responses</h3><ul>
    {% for code, description in op.responses %}<li><code>{{ code }}</code> {{ description }}</li>{% endfor %}
  </ul>
  {% for code, example in op.response_examples %}<h3>Response example ({{ code }})</h3>
  <pre><code>{{ example }}</code></pre>{% endfor %}
</section>
{% endfor %}
{% endblock %}
"""
)


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    document = api_openapi(request.app)
    return HTMLResponse(
        _PAGE.render(
            request=request,
            help_lines=help_lines_of(request),  # the footer's (base.html)
            doc=document,
            openapi_url="/api/v1/openapi.json",
            operations=_operations(document),
        )
    )


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    schemas = document.get("components", {}).get("schemas", {})
    operations = []
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            request_examples: list[tuple[str, str]] = []
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            for example in content.get("examples", {}).values():
                request_examples.append((example.get("summary", ""), _pretty(example["value"])))
            response_examples: list[tuple[str, str]] = []
            for code, response in op.get("responses", {}).items():
                for media in response.get("content", {}).values():
                    example = media.get("example")
                    ref = media.get("schema", {}).get("$ref", "")
                    if example is None and ref:
                        examples = schemas.get(ref.rsplit("/", 1)[-1], {}).get("examples")
                        example = examples[0] if examples else None
                    if example is not None:
                        response_examples.append((code, _pretty(example)))
                        break
            operations.append(
                {
                    "anchor": f"{method}-{path}".replace("/", "-")
                    .replace("{", "")
                    .replace("}", ""),
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "key": bool(op.get("security")),
                    "parameters": op.get("parameters", []),
                    "request_examples": request_examples,
                    "responses": [
                        (c, r.get("description", "")) for c, r in op["responses"].items()
                    ],
                    "response_examples": response_examples,
                }
            )
    return operations
