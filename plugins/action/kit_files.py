# Copyright: Apache CGI Kit; MIT License (the collection's, see galaxy.yml)
"""The controller's half of kit_files: read a folder's files and send them in one call.

Where ansible.builtin.copy with a loop costs two calls on the host per file (a
checksum, then the copy), this reads every file matching ``pattern`` in ``src``
on the controller and runs the kit_files module once with all of them; the
module writes only what differs.  ``src_optional: true`` takes a missing ``src``
as a folder without files.  With ``check_scripts: true`` anything in ``src`` that
is neither a folder nor a regular file fails the task, and each file is sent with
the legacy modules it imports (``cgi``, ``cgitb``: gone from Python 3.13) for the
module to find on the host.  ``scan: true`` only reads the folder, on the
controller, and returns ``imports_cgi``: the files that import either, and
``in_process``: the Python scripts that can also run in a long-lived process
(they import the kit's ``cgikit``, or a helper of the folder's ``lib/`` that
does, and no legacy module).  The other options go to the module as they are.
"""

from __future__ import annotations

import base64
import fnmatch
import os
import re

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

__all__ = ["ActionModule"]


# The top-level modules a Python source imports (``import a, b`` counts ``a``).
IMPORT = re.compile(rb"^[ \t]*(?:import|from)[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
# The standard library's CGI modules, which Python 3.13 removed (Debian's
# python3-legacy-cgi brings them back).
LEGACY = frozenset(("cgi", "cgitb"))
KIT_HELPER = "cgikit"


def imported(data: bytes) -> set[str]:
    """The top-level modules a Python source imports, by name."""
    return {match.decode() for match in IMPORT.findall(data)}


def legacy_imports(data: bytes) -> list[str]:
    """The legacy CGI modules a Python source imports, sorted."""
    return sorted(imported(data) & LEGACY)


def kit_modules(lib: str) -> set[str]:
    """``cgikit`` and the helpers in ``lib`` that import it, directly or through another."""
    sources = {}
    if os.path.isdir(lib):
        for name in os.listdir(lib):
            path = os.path.join(lib, name)
            if name.endswith(".py") and os.path.isfile(path):
                with open(path, "rb") as handle:
                    sources[name[:-3]] = imported(handle.read())
    found = {KIT_HELPER}
    while True:
        more = {name for name, imports in sources.items() if imports & found} - found
        if not more:
            return found
        found |= more


def in_process(src: str, files: list[dict]) -> list[str]:
    """The Python scripts of ``files`` that serve through the kit's helper."""
    helpers = kit_modules(os.path.join(src, "lib"))
    names = []
    for item in files:
        data = base64.b64decode(item["content"])
        first_line = data.split(b"\n", 1)[0]
        python = first_line.startswith(b"#!") and b"python" in first_line
        if python and not item["needs"] and imported(data) & helpers:
            names.append(item["name"])
    return names


def folder_files(src: str, pattern: str, strict: bool = False) -> list[dict]:
    """The regular files in ``src`` whose names match ``pattern``, sorted, as the module
    takes them: name, base64 content and the legacy modules imported.  Hidden files
    (an editor's swap file, a desktop's metadata) are left out unless the pattern
    itself starts with a dot; folders are left out; with ``strict``, anything else
    (a broken link, a pipe) fails."""
    if not os.path.isdir(src):
        raise AnsibleActionFail(f"kit_files: {src} is not a folder on the controller")
    files = []
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        hidden = name.startswith(".") and not pattern.startswith(".")
        if not fnmatch.fnmatchcase(name, pattern) or hidden or os.path.isdir(path):
            continue
        if not os.path.isfile(path):
            if strict:
                raise AnsibleActionFail(
                    f"{path}: not a regular file (a broken link, a pipe?); nothing on the "
                    "host was changed"
                )
            continue
        with open(path, "rb") as handle:
            data = handle.read()
        content = base64.b64encode(data).decode("ascii")
        files.append({"name": name, "content": content, "needs": legacy_imports(data)})
    return files


class ActionModule(ActionBase):
    """Run kit_files with the folder's files read here."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(
        (
            "src",
            "src_optional",
            "pattern",
            "dest",
            "mode",
            "directory_mode",
            "owner",
            "group",
            "compile",
            "check_scripts",
            "max_size",
            "search_path",
            "manifest",
            "scan",
        )
    )

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        arguments = dict(self._task.args)
        src = arguments.pop("src", None)
        if not src:
            raise AnsibleActionFail("kit_files: src is required")
        pattern = arguments.pop("pattern", "*")
        optional = bool(arguments.pop("src_optional", False))
        try:
            # A relative src is found as the copy module finds one (the role's
            # files/, then beside the playbook).
            folder = self._find_needle("files", src)
        except AnsibleError:
            if not optional:
                raise AnsibleActionFail(
                    f"kit_files: {src} is not a folder on the controller"
                ) from None
            folder = None
        strict = boolean(arguments.get("check_scripts", False), strict=False)
        files = folder_files(folder, pattern, strict) if folder else []
        if boolean(arguments.pop("scan", False), strict=False):
            result.update(
                changed=False,
                imports_cgi=[f["name"] for f in files if f["needs"]],
                in_process=in_process(folder, files) if folder else [],
            )
            return result
        arguments["files"] = files
        arguments["source"] = folder or src
        result.update(
            self._execute_module(
                module_name="kit_files", module_args=arguments, task_vars=task_vars
            )
        )
        # What -v shows of the call: the files' names, not their contents.
        shown = result.get("invocation", {}).get("module_args", {})
        if "files" in shown:
            shown["files"] = [file["name"] for file in arguments["files"]]
        return result
