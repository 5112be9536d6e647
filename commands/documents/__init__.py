"""One document model and one set of writers: agendas, minutes, the annual report and the subject access letter
are described once (`model`) and written as Markdown, PDF and CSV (`markdown`, `pdf`, `csvfile`), each format
with its one escaping function (`escape`), so no user text stays live in a file and the formats never drift."""

from commands.documents.files import attachments, footer_text, page_text
from commands.documents.model import Chart, Document, Ours, Section, Table

__all__ = ["Chart", "Document", "Ours", "Section", "Table", "attachments", "footer_text", "page_text"]
