"""The README and docs link only to files that exist; modules stay small."""
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_relative_links_in_readme_and_docs_resolve():
    pages = [os.path.join(ROOT, "README.md")] + glob.glob(os.path.join(ROOT, "docs", "**", "*.md"),
                                                           recursive=True)
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", open(page).read()):
            if not target.startswith(("http://", "https://", "mailto:")) and \
                    not os.path.exists(os.path.join(os.path.dirname(page), target)):
                broken.append(f"{os.path.relpath(page, ROOT)} -> {target}")
    assert not broken, broken


def test_no_module_over_500_lines():
    big = [path for path in glob.glob(os.path.join(ROOT, "acqflow", "**", "*.py"), recursive=True)
           if sum(1 for _ in open(path)) > 500]
    assert not big, big
