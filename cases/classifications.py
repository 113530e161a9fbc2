"""The Google Workspace classification tree, shipped as data (cases/data/classifications.json)."""

import json
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from cases.models import Classification

TREE_FILE = Path(__file__).resolve().parent / "data" / "classifications.json"


@transaction.atomic
def classification_tree_load(path: Path = TREE_FILE) -> int:
    """Create or update every node of the tree; returns the number of leaves. Idempotent:
    nodes are keyed by a code derived from their English path."""
    tree = json.loads(path.read_text(encoding="utf-8"))
    leaves = 0

    def visit(
        nodes: list[dict], parent: Classification | None, path_en: list[str], path_ko: list[str]
    ) -> None:
        nonlocal leaves
        for position, node in enumerate(nodes):
            names_en = [*path_en, node["name"]]
            names_ko = [*path_ko, node["name_ko"]]
            children = node.get("children", [])
            obj, _created = Classification.objects.update_or_create(
                code=slugify("--".join(names_en))[:120],
                defaults={
                    "parent": parent,
                    "name": node["name"],
                    "name_ko": node["name_ko"],
                    "display_name": " > ".join(names_en),
                    "display_name_ko": " > ".join(names_ko),
                    "questions": node.get("questions", []),
                    "is_leaf": not children,
                    "position": position,
                },
            )
            if children:
                visit(children, obj, names_en, names_ko)
            else:
                leaves += 1

    visit(tree, None, [], [])
    return leaves
