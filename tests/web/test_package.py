"""Package rules for acqflow.web: imports without aiohttp (the error names the extra),
imports only downward, small modules, the page ships as package data and fetches nothing."""
import pathlib
import re
import acqflow.web
from acqflow.testing import run_python

WEB = pathlib.Path(acqflow.web.__file__).parent


def test_import_without_aiohttp_and_the_error_names_the_extra():
    code = ("import acqflow.web\n"
            "try:\n    acqflow.web.serve_web(None)\nexcept ImportError as exc:\n    print(exc)\n")
    assert "pip install acqflow[web]" in run_python(code, block=["aiohttp"]).stdout


def test_page_is_package_data_and_fetches_nothing_from_outside():
    for name in ("index.html", "monitor.js", "monitor.css"):
        text = (WEB / "static" / name).read_text()
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), name
        assert "cdn" not in text.lower(), name
    pyproject = (WEB.parent.parent / "pyproject.toml").read_text()
    assert '"acqflow.web" = ["static/*"]' in pyproject
