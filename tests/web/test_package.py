"""Package rules for acqflow.web: imports without aiohttp (the error names the extra),
imports only downward, small modules, the page ships as package data and fetches nothing."""
import pathlib
import re
import subprocess
import sys

import acqflow.web

WEB = pathlib.Path(acqflow.web.__file__).parent


def test_import_without_aiohttp_and_the_error_names_the_extra():
    code = ("import sys; sys.modules['aiohttp'] = None\n"
            "import acqflow.web\n"
            "try:\n    acqflow.web.serve_web(None)\nexcept ImportError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install acqflow[web]" in out.stdout


def test_page_is_package_data_and_fetches_nothing_from_outside():
    for name in ("index.html", "monitor.js", "monitor.css"):
        text = (WEB / "static" / name).read_text()
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), name
        assert "cdn" not in text.lower(), name
    pyproject = (WEB.parent.parent / "pyproject.toml").read_text()
    assert '"acqflow.web" = ["static/*"]' in pyproject
