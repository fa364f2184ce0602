"""Documents for retrieval: an uploaded file becomes text, chunks, vectors and citations.

The pure layer (``extract``, ``chunking``) takes bytes and returns plain values,
so every file format can be tested without a server or a database; storage,
embedding and retrieval sit at the edges and build on it.
"""
