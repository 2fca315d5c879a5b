"""Task instructions for gemini-embedding-2, which ignores the ``taskType`` field.

Google documents text prefixes instead: queries are written ``task: <task> | query: <text>``,
documents ``title: <title or "none"> | text: <text>``; symmetric tasks (similarity,
classification, clustering) use the query form on both sides.
"""

from __future__ import annotations

from vecbridge.core.models import TaskType

__all__ = ["apply_task_prefix"]

_QUERY_TASKS = {
    TaskType.RETRIEVAL_QUERY: "search result",
    TaskType.QUESTION_ANSWERING: "question answering",
    TaskType.FACT_VERIFICATION: "fact checking",
    TaskType.CODE_RETRIEVAL_QUERY: "code retrieval",
    TaskType.CLASSIFICATION: "classification",
    TaskType.CLUSTERING: "clustering",
    TaskType.SEMANTIC_SIMILARITY: "sentence similarity",
}


def apply_task_prefix(text: str, task: TaskType, title: str | None = None) -> str:
    """The text gemini-embedding-2 should see for ``task`` (documents carry their title)."""
    if task is TaskType.RETRIEVAL_DOCUMENT:
        return f"title: {title or 'none'} | text: {text}"
    return f"task: {_QUERY_TASKS[task]} | query: {text}"
