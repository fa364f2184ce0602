"""Files attached in the chat composer: documents into the conversation's own
collection, images for the next message.

Thin: the rules (which file is an image, limits, the conversation's collection)
are in ``chat/attachments.py`` and the document library; here the files are
read, at most one byte over the larger bound, and the answers shaped. Another
member's conversation is the same 404 as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile, status

from chatgrid.chat.attachments import MAX_IMAGE_BYTES, ConversationAttachments
from chatgrid.documents.library import Reader
from chatgrid.errors import InvalidRequest, NotFound
from chatgrid.web.api.attachments_schemas import AttachmentPublic, attachment_public
from chatgrid.web.api.chat import OwnConversation
from chatgrid.web.deps import Console, Ctx, OrgMember, url_id

router = APIRouter(tags=["chat"])


def attachments_of(state: Console, ctx: Ctx) -> ConversationAttachments:
    """The workspace's; a console without one (no gateway) still stores and lists them."""
    if state.workspace is not None:
        return state.workspace.attachments
    return ConversationAttachments(ctx.attachments, state.library)


Attachments = Annotated[ConversationAttachments, Depends(attachments_of)]

#: Files in one request; the composer sends each file on its own anyway.
MAX_FILES_PER_REQUEST = 10


@router.post(
    "/api/orgs/{org_id}/conversations/{conversation_id}/attachments",
    response_model=list[AttachmentPublic],
    status_code=status.HTTP_202_ACCEPTED,
    summary="Attach files: documents are ingested into the conversation's collection",
)
async def attach_files(
    access: OrgMember,
    conversation: OwnConversation,
    attachments: Attachments,
    files: Annotated[list[UploadFile], File(description="One or more files")],
) -> list[AttachmentPublic]:
    if len(files) > MAX_FILES_PER_REQUEST:
        raise InvalidRequest(
            f"Attach at most {MAX_FILES_PER_REQUEST} files at once.", param="files"
        )
    reader = Reader(access.member.id, access.is_admin, access.actor)
    bound = max(attachments.library.max_bytes, MAX_IMAGE_BYTES) + 1  # one byte over refuses
    attached = []
    for upload in files:
        data = await upload.read(bound)
        found = await attachments.attach(
            conversation, reader, upload.filename, upload.content_type, data
        )
        attached.append(attachment_public(found))
    return attached


@router.get(
    "/api/orgs/{org_id}/conversations/{conversation_id}/attachments",
    response_model=list[AttachmentPublic],
    summary="What was attached to a conversation: its documents, then its images",
)
def list_attachments(
    conversation: OwnConversation, attachments: Attachments
) -> list[AttachmentPublic]:
    return [attachment_public(a) for a in attachments.listing(conversation)]


@router.delete(
    "/api/orgs/{org_id}/conversations/{conversation_id}/attachments/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take back an image that has not been sent yet",
)
def remove_image(image_id: str, conversation: OwnConversation, attachments: Attachments) -> None:
    image_id = url_id(image_id, "image")
    if not attachments.store.delete_image(conversation.org_id, conversation.id, image_id):
        raise NotFound("No such attachment waiting to be sent.")
