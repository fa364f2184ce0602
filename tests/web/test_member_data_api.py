"""A member's own data through the API: each member downloads their own archive (and no one
else's), and an admin erases a member, who is signed out and gone at once."""

from __future__ import annotations

import io
import json
import zipfile

from tests.support.console import World


def archive_of(content: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(content))


def rows(archive: zipfile.ZipFile, name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in archive.read(name).splitlines()]


def test_a_member_downloads_their_own_conversations_and_documents(world: World) -> None:
    ctx, org = world.ctx, world.org_a
    for persona, words in ((world.bob, "bob's notes"), (world.dave, "dave's notes")):
        member_id = persona.member_id
        assert member_id is not None
        conversation = ctx.conversations.create(org, member_id, words, "gpt-4o-mini")
        ctx.conversations.append(conversation, "user", words, model=None, status="complete")
        private = ctx.documents.create_collection(org, f"{words} shelf", member_id)
        ctx.documents.add_document(
            org, private.id, member_id, "notes.md", "text/markdown", words.encode()
        )

    answer = world.bob.browser.get(f"/api/orgs/{org}/me/export")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    archive = archive_of(answer.content)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["member"] == {"id": world.bob.member_id, "email": world.bob.email}
    assert [m["content"] for m in rows(archive, "chat_messages.jsonl")] == ["bob's notes"]
    assert [c["title"] for c in rows(archive, "conversations.jsonl")] == ["bob's notes"]
    assert [d["filename"] for d in rows(archive, "documents.jsonl")] == ["notes.md"]
    files = [n for n in archive.namelist() if n.startswith("documents/")]
    assert len(files) == 1 and archive.read(files[0]) == b"bob's notes"
    assert [m["id"] for m in rows(archive, "members.jsonl")] == [world.bob.member_id]
    assert all(b"dave" not in archive.read(name).lower() for name in archive.namelist())
    for entry in manifest["files"]:  # the manifest tells the truth about each file
        assert entry.get("rows", entry.get("bytes")) is not None
    # Another org's member gets nothing of this org.
    assert world.charlie.browser.get(f"/api/orgs/{org}/me/export").status_code == 404


def test_an_admin_erases_a_member_who_is_signed_out_and_gone(world: World) -> None:
    org = world.org_a
    url = f"/api/orgs/{org}/members/{world.dave.member_id}/erase"
    assert world.bob.browser.api("POST", url).status_code == 403  # members cannot

    answer = world.alice.browser.api("POST", url)

    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    assert receipt["member"] != world.dave.member_id and receipt["account_deleted"] is True
    assert world.dave.email not in answer.text
    assert world.dave.browser.get(f"/api/orgs/{org}/me/export").status_code == 401
    listed = world.alice.browser.get(f"/api/orgs/{org}/members").text
    assert world.dave.email not in listed
    assert world.alice.browser.api("POST", url).status_code == 404  # gone: nothing to erase
