"""Files attached in the composer: documents into the conversation's own collection,
images kept for the turn that sends them.

A document goes through the document library's own upload (the same
per-member limit, size bound and refusals as the documents page) into a
private collection made for the conversation at its first document; every
turn of that conversation then searches it too, so its passages are cited
like any other. An image is checked here (the same per-member limit, then
its own size bound and a type allow-list, judged by its bytes, not by the
name the browser gave it) and waits, unsent, until the next message takes
it along. Only vision-capable models are sent images; a refusal comes
before any call is made.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Final, Literal

from chatgrid.chat.models import Conversation
from chatgrid.chat.ports import AttachmentStore
from chatgrid.documents.library import DocumentLibrary, Reader, clean_filename
from chatgrid.documents.models import Collection
from chatgrid.errors import InvalidRequest, RequestTooLarge

MAX_IMAGE_BYTES: Final = 5 * 1024 * 1024
#: Images waiting for one message; a message takes them all.
MAX_IMAGES_PER_MESSAGE: Final = 4
#: Images in one request to the model: the question's own first, then the
#: newest of earlier questions, so a long conversation does not re-send them all.
MAX_IMAGES_SENT: Final = 6

#: The allow-list, by the first bytes of the file.
_SIGNATURES: Final = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
#: OpenAI chat models that accept image parts, by the start of their id.
VISION_MODEL_PREFIXES: Final = (
    "gpt-4o",
    "chatgpt-4o",
    "gpt-4.1",
    "gpt-4.5",
    "gpt-4-turbo",
    "gpt-5",
    "o1",
    "o3",
    "o4",
)
#: ...except these, which take text only.
_TEXT_ONLY: Final = ("o1-mini", "o1-preview", "o3-mini")


def is_vision_model(model: str) -> bool:
    name = model.lower()
    return name.startswith(VISION_MODEL_PREFIXES) and not name.startswith(_TEXT_ONLY)


def image_type(data: bytes) -> str | None:
    """The image's media type if its bytes are one the allow-list takes, else None."""
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def refuse_unless_vision(model: str, images: int) -> None:
    if images and not is_vision_model(model):
        raise InvalidRequest(
            f"The model '{model}' cannot read images. Choose a model that can "
            "(such as gpt-4o-mini), or remove the attached images.",
            param="model",
            code="images_need_vision_model",
        )


@dataclass(frozen=True, slots=True)
class Attached:
    """One attachment as the composer lists it."""

    kind: Literal["document", "image"]
    id: str
    filename: str
    size_bytes: int
    #: a document's ingestion status; an image's ``waiting`` (not sent yet) or ``sent``
    status: str


class ConversationAttachments:
    def __init__(self, store: AttachmentStore, library: DocumentLibrary) -> None:
        self.store = store
        self.library = library

    async def attach(
        self,
        conversation: Conversation,
        reader: Reader,
        filename: str | None,
        content_type: str | None,
        data: bytes,
    ) -> Attached:
        media_type = image_type(data)
        claimed_image = (content_type or "").lower().startswith("image/")
        if media_type is None and not claimed_image:
            collection = await self.collection(conversation, reader)
            document = await self.library.upload(reader, collection, filename, content_type, data)
            return Attached("document", document.id, document.filename, len(data), document.status)
        # The same per-member upload limit as documents, counted first.
        await self.library.uploads.admit(conversation.org_id, reader.member_id)
        if len(data) > MAX_IMAGE_BYTES:
            raise RequestTooLarge(
                f"This image is larger than the {MAX_IMAGE_BYTES // (1024 * 1024)} MiB "
                "an attached image may be.",
                code="image_too_large",
            )
        if not data:
            raise InvalidRequest("The file is empty.", param="file", code="document_empty")
        if media_type is None:
            raise InvalidRequest(
                "Only PNG, JPEG, WebP and GIF images can be attached.",
                param="file",
                code="image_type_not_allowed",
            )
        org_id, conversation_id = conversation.org_id, conversation.id
        waiting = await asyncio.to_thread(self.store.pending_count, org_id, conversation_id)
        if waiting >= MAX_IMAGES_PER_MESSAGE:
            raise InvalidRequest(
                f"A message can take at most {MAX_IMAGES_PER_MESSAGE} images.",
                param="file",
                code="too_many_images",
            )
        image = await asyncio.to_thread(
            self.store.add_image,
            org_id,
            conversation_id,
            reader.member_id,
            clean_filename(filename),
            media_type,
            data,
        )
        return Attached("image", image.id, image.filename, image.size_bytes, "waiting")

    async def collection(self, conversation: Conversation, reader: Reader) -> Collection:
        """The conversation's private collection, made at its first document."""
        org_id = conversation.org_id
        linked = await asyncio.to_thread(self.store.collection_of, org_id, conversation.id)
        if linked is not None:
            found = await asyncio.to_thread(self.library.store.collection, org_id, linked)
            if found is not None:
                return found
        name = f"Attached in “{conversation.title}”"[:200]
        made = await asyncio.to_thread(
            self.library.create_collection, org_id, reader, name, shared=False
        )
        kept = await asyncio.to_thread(
            self.store.link_collection, org_id, conversation.id, made.id, linked
        )
        if kept != made.id:  # another request linked one first: keep that one
            await asyncio.to_thread(self.library.store.delete_collection, org_id, made.id)
            return self.library.collection(org_id, reader.member_id, kept)
        return made

    def listing(self, conversation: Conversation) -> list[Attached]:
        org_id = conversation.org_id
        found: list[Attached] = []
        linked = self.store.collection_of(org_id, conversation.id)
        collection = self.library.store.collection(org_id, linked) if linked else None
        if collection is not None:
            found += [
                Attached("document", d.id, d.filename, d.size_bytes, d.status)
                for d in self.library.documents(collection)
            ]
        found += [
            Attached(
                "image",
                i.id,
                i.filename,
                i.size_bytes,
                "waiting" if i.message_id is None else "sent",
            )
            for i in self.store.images(org_id, conversation.id)
        ]
        return found
