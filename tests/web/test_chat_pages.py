"""The chat, documents and passage pages: who sees what, and text shown as text.

A cited passage is the one page that prints a document's words server-side,
so it is where isolation and escaping are checked hardest: another org, a
teammate looking at a private collection, a chunk asked for under another
document — all the same 404 — and a passage full of markup shown escaped.
"""

from __future__ import annotations

from tests.support.console import World, add_passage, seed_chat_objects


def passage_url(org_id: str, document_id: str, chunk_id: str) -> str:
    return f"/orgs/{org_id}/documents/{document_id}/passages/{chunk_id}"


def test_a_member_reads_a_cited_passage_with_its_markup_escaped(world: World) -> None:
    text = 'Launch code PELICAN-7. <script>alert(1)</script><img src=x onerror="alert(2)">'
    document_id, chunk_id = add_passage(world, world.org_a, None, text)
    page = world.bob.browser.get(passage_url(world.org_a, document_id, chunk_id))
    assert page.status_code == 200
    assert "handbook.pdf" in page.text and "Launch procedures" in page.text
    assert "PELICAN-7" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert f'href="/orgs/{world.org_a}/documents"' in page.text


def test_a_private_collections_passage_is_only_its_owners(world: World) -> None:
    document_id, chunk_id = add_passage(
        world, world.org_a, str(world.bob.member_id), "Bob's private notes."
    )
    url = passage_url(world.org_a, document_id, chunk_id)
    assert world.bob.browser.get(url).status_code == 200
    for persona in (world.alice, world.dave):
        answer = persona.browser.get(url)
        assert answer.status_code == 404, persona.email
        assert "private notes" not in answer.text


def test_another_orgs_passage_is_not_found_whatever_the_url(world: World) -> None:
    document_id, chunk_id = add_passage(world, world.org_a, None, "Canary of org A.")
    charlie = world.charlie.browser
    for url in (
        passage_url(world.org_a, document_id, chunk_id),
        passage_url(world.org_b, document_id, chunk_id),
    ):
        answer = charlie.get(url)
        assert answer.status_code == 404, url
        assert "Canary" not in answer.text


def test_a_chunk_is_found_only_under_its_own_document(world: World) -> None:
    first_document, first_chunk = add_passage(world, world.org_a, None, "First passage.")
    second_document, _ = add_passage(world, world.org_a, None, "Second passage.")
    alice = world.alice.browser
    assert alice.get(passage_url(world.org_a, first_document, first_chunk)).status_code == 200
    wrong = alice.get(passage_url(world.org_a, second_document, first_chunk))
    assert wrong.status_code == 404
    assert "First passage" not in wrong.text
    assert alice.get(passage_url(world.org_a, first_document, "chk_" + "0" * 20)).status_code == 404
    assert alice.get(passage_url(world.org_a, first_document, "x" * 65)).status_code == 404


def test_a_passage_leads_back_to_the_readers_own_conversation_only(world: World) -> None:
    seed_chat_objects(world)
    url = passage_url(world.org_a, world.ids["document"], world.ids["chunk"])
    conversation = world.ids["conversation"]  # bob's
    back = world.bob.browser.get(f"{url}?conversation={conversation}")
    assert back.status_code == 200
    assert f'href="/orgs/{world.org_a}/chat/{conversation}">Back to the conversation' in back.text
    # Someone else's, unknown or hostile ids lead back to a new chat, never elsewhere.
    for wanted in (conversation, "conv_missing", "../../operator", "x" * 64):
        page = world.alice.browser.get(url, params={"conversation": wanted})
        assert page.status_code == 200, wanted
        assert f'href="/orgs/{world.org_a}/chat">Back to chat' in page.text
    assert world.bob.browser.get(url, params={"conversation": "x" * 65}).status_code == 400


def test_a_conversation_page_is_its_members_alone(world: World) -> None:
    seed_chat_objects(world)
    url = f"/orgs/{world.org_a}/chat/{world.ids['conversation']}"
    page = world.bob.browser.get(url)
    assert page.status_code == 200
    assert "Rota questions" in page.text
    assert f'data-conversation="{world.ids["conversation"]}"' in page.text
    assert world.alice.browser.get(url).status_code == 404
    assert world.charlie.browser.get(url).status_code == 404
    assert world.bob.browser.get(f"/orgs/{world.org_a}/chat/conv_missing").status_code == 404


def test_chat_and_documents_pages_carry_their_scripts_and_csrf_token(world: World) -> None:
    bob = world.bob.browser
    chat = bob.get(f"/orgs/{world.org_a}/chat")
    assert chat.status_code == 200
    assert '<script type="module" src="/static/chat.js"></script>' in chat.text
    assert f'data-csrf="{bob.csrf}"' in chat.text
    assert 'role="log"' in chat.text and 'aria-live="polite"' in chat.text
    assert f'href="/orgs/{world.org_a}/chat" aria-current="page"' in chat.text
    documents = bob.get(f"/orgs/{world.org_a}/documents")
    assert documents.status_code == 200
    assert '<script src="/static/documents.js" defer></script>' in documents.text
    # Only admins share a collection with the whole org; bob is told why he cannot.
    assert 'value="org" disabled' in documents.text
    admin_view = world.alice.browser.get(f"/orgs/{world.org_a}/documents")
    assert 'value="org" disabled' not in admin_view.text
    for asset in ("chat.js", "chat/api.js", "chat/messages.js", "documents.js", "chat.css"):
        assert bob.get(f"/static/{asset}").status_code == 200
