"""POST /render-template, behind the `renderRoute` experimental feature (as Meilisearch)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import run_task

TEMPLATE = "A movie titled {{doc.title}} about {{doc.overview|truncatewords: 3}}"
ARIEL = {"id": 2, "title": "Ariel", "overview": "Taisto Kasurinen is a Finnish coal miner."}


@pytest.fixture
def render(client: TestClient) -> TestClient:
    """The feature on, documents in `movies`, embedders configured on the empty `prompts`
    (so that no embedding service is ever called)."""
    on = client.patch("/experimental-features", json={"renderRoute": True})
    assert on.status_code == 200 and on.json()["renderRoute"] is True
    run_task(client, "POST", "/indexes/movies/documents", json=[ARIEL])
    embedders = {
        "custom": {"source": "openAi", "documentTemplate": TEMPLATE,
                   "documentTemplateMaxBytes": 40},
        "plain": {"source": "ollama", "model": "nomic-embed-text"},
        "manual": {"source": "userProvided", "dimensions": 2},
    }
    task = run_task(client, "PATCH", "/indexes/prompts/settings",
                    json={"embedders": embedders, "searchableAttributes": ["title"]})
    assert task["status"] == "succeeded", task
    return client


def _render(client: TestClient, template: dict[str, Any], given: Any = None) -> Any:
    body = {"template": template} if given is None else {"template": template, "input": given}
    return client.post("/render-template", json=body)


def test_the_route_is_off_until_the_feature_is_switched_on(client: TestClient) -> None:
    inline = {"kind": "inlineDocumentTemplate", "inline": "{{doc.id}}"}
    assert client.get("/experimental-features").json()["renderRoute"] is False
    off = _render(client, inline)
    assert off.status_code == 400 and off.json()["code"] == "feature_not_enabled"
    assert client.patch("/experimental-features", json={"renderRoute": True}).status_code == 200
    assert client.get("/experimental-features").json()["renderRoute"] is True
    assert _render(client, inline).json() == {"template": "{{doc.id}}", "rendered": None}
    assert client.patch("/experimental-features", json={"renderRoute": False}).status_code == 200
    assert _render(client, inline).json()["code"] == "feature_not_enabled"


def test_an_embedder_template_on_a_stored_document(render: TestClient) -> None:
    custom = {"kind": "documentTemplate", "indexUid": "prompts", "embedder": "custom"}
    stored = {"kind": "indexDocument", "indexUid": "movies", "id": "2"}
    answer = _render(render, custom, stored)
    assert answer.status_code == 200, answer.text
    # The embedder's documentTemplateMaxBytes (40) cuts the text as when it embeds.
    assert answer.json() == {"template": TEMPLATE,
                             "rendered": "A movie titled Ariel about Taisto Kasuri"}
    # An embedder without a template has the default one, which lists searchable fields.
    plain = {"kind": "documentTemplate", "indexUid": "prompts", "embedder": "plain"}
    inline_doc = {"kind": "inlineDocument", "inline": {"title": "Iko", "breed": "terrier"}}
    answer = _render(render, plain, inline_doc).json()
    assert "field.is_searchable" in answer["template"]
    assert answer["rendered"] == "title: Iko\n"  # `prompts` searches the title only


def test_inline_templates_documents_and_search_queries(render: TestClient) -> None:
    inline = {"kind": "inlineDocumentTemplate", "inline": "{{ doc.breed }} called {{ doc.name }}"}
    dog = {"kind": "inlineDocument", "inline": {"name": "Iko", "breed": "A Jack Russell"}}
    assert _render(render, inline, dog).json()["rendered"] == "A Jack Russell called Iko"
    cut = {**inline, "documentTemplateMaxBytes": 6}
    assert _render(render, cut, dog).json()["rendered"] == "A Jack"
    # A fragment keeps its JSON shape; a search query gives it `q` and `media`.
    fragment = {"kind": "inlineFragment", "inline": {"text": "{{q}}", "image": "{{media.url}}",
                                                     "n": 3}}
    query = {"kind": "inlineSearch", "inline": {"q": "a dog", "media": {"url": "http://x/i"}}}
    assert _render(render, fragment, query).json() == {
        "template": fragment["inline"],
        "rendered": {"text": "a dog", "image": "http://x/i", "n": 3},
    }
    chat = {"kind": "chatDocumentTemplate", "indexUid": "movies"}
    stored = {"kind": "indexDocument", "indexUid": "movies", "id": 2}
    assert _render(render, chat, stored).json()["rendered"].startswith("id: 2\ntitle: Ariel\n")


@pytest.mark.parametrize(
    ("template", "given", "status", "code"),
    [
        ({"kind": "documentTemplate", "indexUid": "prompts", "embedder": "nope"}, None, 400,
         "invalid_render_template"),
        ({"kind": "documentTemplate", "indexUid": "prompts", "embedder": "manual"}, None, 400,
         "invalid_render_template"),
        ({"kind": "documentTemplate", "indexUid": "prompts"}, None, 400,
         "invalid_render_template"),
        ({"kind": "searchFragment", "indexUid": "prompts", "embedder": "custom",
          "fragment": "text"}, None, 400, "invalid_render_template"),
        ({"kind": "poem", "inline": "x"}, None, 400, "invalid_render_template"),
        ({"kind": "documentTemplate", "indexUid": "ghosts", "embedder": "custom"}, None, 404,
         "index_not_found"),
        ({"kind": "inlineDocumentTemplate", "inline": "{% if doc.x %}"}, None, 400,
         "invalid_render_template_inline"),
        ({"kind": "inlineDocumentTemplate", "inline": 7}, None, 400,
         "invalid_render_template_inline"),
        ({"kind": "inlineDocumentTemplate", "inline": "{{doc.x | truncatewords: many}}"}, None,
         400, "invalid_render_template_inline"),
        ({"kind": "inlineDocumentTemplate", "inline": "{{doc.id}}"},
         {"kind": "indexDocument", "indexUid": "movies", "id": "9999"}, 404,
         "render_document_not_found"),
        ({"kind": "inlineDocumentTemplate", "inline": "{{doc.id}}"},
         {"kind": "indexDocument", "indexUid": "movies", "id": [1]}, 400,
         "invalid_render_input_document_id"),
        ({"kind": "inlineDocumentTemplate", "inline": "{{doc.id}}"},
         {"kind": "inlineDocument", "inline": "not a document"}, 400,
         "invalid_render_input_inline"),
        ({"kind": "inlineDocumentTemplate", "inline": "{{doc.id}}"},
         {"kind": "telepathy"}, 400, "invalid_render_input"),
    ],
)
def test_failures_answer_meilisearch_codes(
    render: TestClient, template: dict[str, Any], given: Any, status: int, code: str
) -> None:
    answer = _render(render, template, given)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text


def test_keys_need_the_settings_and_documents_they_reveal(render: TestClient) -> None:
    def key(actions: list[str], indexes: list[str]) -> dict[str, str]:
        created = render.post("/keys", json={"actions": actions, "indexes": indexes,
                                             "expiresAt": None}).json()
        return {"Authorization": f"Bearer {created['key']}"}

    custom = {"template": {"kind": "documentTemplate", "indexUid": "prompts",
                           "embedder": "custom"},
              "input": {"kind": "indexDocument", "indexUid": "movies", "id": "2"}}
    settings_only = key(["settings.get"], ["*"])
    both = key(["settings.get", "documents.get"], ["prompts", "movies"])
    other_index = key(["settings.get", "documents.get"], ["prompts"])
    assert render.post("/render-template", json=custom, headers=settings_only).status_code == 403
    assert render.post("/render-template", json=custom, headers=other_index).status_code == 403
    assert render.post("/render-template", json=custom, headers=both).status_code == 200
