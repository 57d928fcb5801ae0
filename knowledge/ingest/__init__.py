"""From uploaded files to clean Markdown, and from Markdown to retrieval chunks.

Each format becomes Markdown first (HTML sanitised by nh3 then converted,
PDF text extracted page by page), so articles are edited and chunked one
way whatever they came from. Chunks follow the document's headings and
paragraphs, overlap a little, and stay inside a token budget sized for the
embedding model.

Modules, each imported by its own name (this package re-exports nothing):
`uploads` (supported types, size checks, .zip archives), `documents` (one
file to a draft article), `html` and `pdf` (each format to Markdown),
`markdown` (Markdown to plain text blocks under their headings) and
`chunking` (blocks to chunks within a token budget).
"""
