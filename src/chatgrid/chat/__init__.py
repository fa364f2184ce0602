"""The chat workspace: conversations, streamed answers and how they are shown.

Model output is untrusted text. Everything the browser receives from a model
(or from a retrieved document) goes through ``chatgrid.chat.render`` first,
which turns markdown into an allow-listed HTML fragment; the page's
Content-Security-Policy is the second wall, not the first.
"""
