"""README and docs/ stand on their own: no path out of the repository, and every relative link lands
on a file in it (a clone, an archive or an image build has nothing beside the repository)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_no_document_refers_to_a_path_outside_the_repository():
    outside = []
    for doc in DOCS:
        for number, line in enumerate(doc.read_text().splitlines(), start=1):
            # `../x`, (../x) or a bare shared/… path: the sibling folders of a developer's machine
            if re.search(r"(^|[\s`(\"'])\.\./|(^|[\s`(])shared/", line):
                outside.append(f"{doc.relative_to(ROOT)}:{number}: {line.strip()}")
    assert outside == []


def test_every_relative_link_lands_on_a_file_of_the_repository():
    broken = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
                continue
            path = (doc.parent / target).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []
