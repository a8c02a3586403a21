"""`acqflow compat install-pyacq | uninstall-pyacq | status` (acqflow.compat.pth)."""
from __future__ import annotations

import argparse
import os

from ..compat.pth import PTH_NAME, install_pth, site_dir, uninstall_pth

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="acqflow compat",
        description="pyacq compatibility: make `import pyacq` work in every Python process of "
                    "this environment (opt-in; see docs/pyacq.md)")
    parser.add_argument("action", choices=("install-pyacq", "uninstall-pyacq", "status"))
    parser.add_argument("--site", metavar="DIR", help="directory for the .pth file "
                        "(default: this environment's site-packages)")
    args = parser.parse_args(argv)
    site = args.site or site_dir()
    if args.action == "install-pyacq":
        print(f"wrote {install_pth(site)}: `import pyacq` now resolves to acqflow's aliases in "
              f"every Python process of this environment (unless a real pyacq is installed)")
    elif args.action == "uninstall-pyacq":
        path = uninstall_pth(site)
        print(f"removed {path}" if path else f"nothing to remove: no {PTH_NAME} in {site}")
    else:
        path = os.path.join(site, PTH_NAME)
        print(f"installed: {path}" if os.path.exists(path) else f"not installed (no {path})")
    return 0

