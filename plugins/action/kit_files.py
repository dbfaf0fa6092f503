# Copyright: Apache CGI Kit; MIT License (the collection's, see galaxy.yml)
"""The controller's half of kit_files: read a folder's files and send them in one call.

Where ansible.builtin.copy with a loop costs two calls on the host per file (a
checksum, then the copy), this reads every file matching ``pattern`` in ``src``
on the controller and runs the kit_files module once with all of them; the
module writes only what differs.  ``src_optional: true`` takes a missing ``src``
as a folder without files.  The other options go to the module as they are.
"""

from __future__ import annotations

import base64
import fnmatch
import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase

__all__ = ["ActionModule"]


def folder_files(src: str, pattern: str) -> list[dict[str, str]]:
    """The regular files in ``src`` whose names match ``pattern``, sorted, as the module
    takes them: name and base64 content.  Hidden files (an editor's swap file, a
    desktop's metadata) are left out unless the pattern itself starts with a dot."""
    if not os.path.isdir(src):
        raise AnsibleActionFail(f"kit_files: {src} is not a folder on the controller")
    files = []
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        hidden = name.startswith(".") and not pattern.startswith(".")
        if fnmatch.fnmatchcase(name, pattern) and not hidden and os.path.isfile(path):
            with open(path, "rb") as handle:
                content = base64.b64encode(handle.read()).decode("ascii")
            files.append({"name": name, "content": content})
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
        arguments["files"] = folder_files(folder, pattern) if folder else []
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
