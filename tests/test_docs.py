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


def test_docs_cite_no_issue_numbers():
    """docs/ is a reference for users (what is true now, how to reproduce): no 'issue 15',
    no '#15'; history goes to CHANGELOG.md."""
    cited = []
    for page in glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True):
        for n, line in enumerate(open(page), 1):
            if re.search(r"\bissues?\s*#?\d+|(?<![\w`&/#-])#\d+\b", line, re.IGNORECASE):
                cited.append(f"{os.path.relpath(page, ROOT)}:{n}: {line.strip()}")
    assert not cited, "\n".join(cited)
