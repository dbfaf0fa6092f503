#!/usr/bin/python
# Copyright: Apache CGI Kit; MIT License (the collection's, see galaxy.yml)
"""Sync a folder of files onto the host in one call (the collection's module, used by the
apache_cgi role; roles/apache_cgi/library/ links it for runs from the repository)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: kit_files
short_description: Put a folder's files on the host in one call, by checksum
description:
  - Makes O(dest) a directory with O(directory_mode), owned by O(owner) and O(group)
    (and any missing parent the same way), and writes each of O(files) into it with
    O(mode) when its content, mode or owner differ; files it is not given are left alone.
  - A link where a file belongs is replaced by the file (never followed); a directory
    or anything else but a regular file there fails the task, naming it.
  - Each file is written whole (a temporary file in O(dest), then renamed), so a
    reader never sees half of one.
  - With O(compile), byte-compiles the Python files in O(dest) with that interpreter
    when one changed or its cache is stale, as C(python3 -m compileall) does.
  - The action plugin of the same name reads the files on the controller; use it,
    not this module, in a task.
options:
  dest:
    description: The directory on the host.
    type: path
    required: true
  files:
    description: The files, each a dict with C(name) (a plain file name) and C(content) (base64).
    type: list
    elements: dict
    required: true
  mode:
    description: The files' mode, octal (a string like V("0644"), or YAML's number C(0644)).
    type: raw
    default: "0644"
  directory_mode:
    description: The directory's mode, as O(mode).
    type: raw
    default: "0755"
  owner:
    description: Owner of the directory and the files.
    type: str
    default: root
  group:
    description: Group of the directory and the files.
    type: str
    default: root
  compile:
    description: An interpreter that byte-compiles the Python files in O(dest) after a change.
    type: path
author: Apache CGI Kit (@cgikit)
"""

EXAMPLES = r"""
- name: Deploy the scripts
  kit_files:
    src: "{{ playbook_dir }}/cgi-bin"
    dest: /usr/lib/cgi-bin
    mode: "0755"
"""

RETURN = r"""
written:
  description: The names of the files whose content was (or, in check mode, would be) written.
  type: list
  elements: str
  returned: always
fixed:
  description: The names of the files whose mode or owner only was (or would be) set.
  type: list
  elements: str
  returned: always
compiled:
  description: Whether the Python files were byte-compiled.
  type: bool
  returned: always
"""

import base64
import grp
import os
import pwd
import stat
import subprocess
import tempfile

from ansible.module_utils.basic import AnsibleModule

MAX_DIFF = 65536


def text_or_none(data: bytes) -> str | None:
    """The content as text for a diff, or None for a binary or large file."""
    if len(data) > MAX_DIFF or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def octal_mode(value: object, name: str, module: AnsibleModule) -> int:
    """A mode given as an octal string ("0644") or as the number YAML makes of 0644."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        module.fail_json(msg=f"{name} must be an octal mode such as '0644'; got {value!r}")
    raise AssertionError("not reached")


def read(path: str, module: AnsibleModule) -> bytes | None:
    """A regular file's content; None where there is nothing or a link (replaced, never
    followed); anything else fails the task."""
    try:
        state = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(state.st_mode):
        return None
    if not stat.S_ISREG(state.st_mode):
        module.fail_json(msg=f"{path} is not a regular file (a directory?): remove it first")
    with open(path, "rb") as handle:
        return handle.read()


def write_whole(path: str, data: bytes, mode: int, uid: int, gid: int) -> None:
    """Write a file by renaming a finished temporary file over it."""
    directory = os.path.dirname(path)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".kit_files-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            os.fchown(handle.fileno(), uid, gid)
            os.fchmod(handle.fileno(), mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def ensure_directory(
    path: str, mode: int, uid: int, gid: int, check: bool, module: AnsibleModule
) -> bool:
    """Make the directory as asked, and its missing parents the same way; whether
    anything changed."""
    try:
        state = os.stat(path)
    except FileNotFoundError:
        if not check:
            parent = os.path.dirname(path.rstrip("/"))
            if parent and not os.path.exists(parent):
                ensure_directory(parent, mode, uid, gid, check, module)
            os.mkdir(path, mode)
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        return True
    if not stat.S_ISDIR(state.st_mode):
        module.fail_json(msg=f"{path} is not a directory")
    changed = (state.st_mode & 0o7777, state.st_uid, state.st_gid) != (mode, uid, gid)
    if changed and not check:
        os.chown(path, uid, gid)
        os.chmod(path, mode)
    return changed


def compile_python(interpreter: str, directory: str, module: AnsibleModule) -> bool:
    """Byte-compile the directory's Python files; whether any was compiled."""
    result = subprocess.run(
        [interpreter, "-m", "compileall", directory],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        module.fail_json(
            msg=f"compileall failed in {directory}", stdout=result.stdout, stderr=result.stderr
        )
    return "Compiling" in result.stdout


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "dest": {"type": "path", "required": True},
            "files": {"type": "list", "elements": "dict", "required": True},
            "mode": {"type": "raw", "default": "0644"},
            "directory_mode": {"type": "raw", "default": "0755"},
            "owner": {"type": "str", "default": "root"},
            "group": {"type": "str", "default": "root"},
            "compile": {"type": "path"},
        },
        supports_check_mode=True,
    )
    params = module.params
    check = module.check_mode
    # What this module creates (parents, __pycache__, its byte code) is readable by
    # all, whatever umask the connection brought: the web server reads it.
    os.umask(0o022)
    try:
        uid = pwd.getpwnam(params["owner"]).pw_uid
        gid = grp.getgrnam(params["group"]).gr_gid
    except KeyError as error:
        module.fail_json(msg=f"no such user or group: {error}")
    mode = octal_mode(params["mode"], "mode", module)
    directory_mode = octal_mode(params["directory_mode"], "directory_mode", module)
    dest = params["dest"]
    changed = ensure_directory(dest, directory_mode, uid, gid, check, module)
    written, fixed, diffs = [], [], []
    for item in params["files"]:
        name = item["name"]
        if "/" in name or name in ("", ".", ".."):
            module.fail_json(msg=f"not a plain file name: {name!r}")
        data = base64.b64decode(item["content"])
        path = os.path.join(dest, name)
        before = read(path, module)
        if before != data:
            written.append(name)
            if module._diff:
                diffs.append(
                    {
                        "before_header": path if before is not None else "/dev/null",
                        "after_header": path,
                        "before": (text_or_none(before) or "") if before is not None else "",
                        "after": text_or_none(data)
                        or f"(binary or large file, {len(data)} bytes)\n",
                    }
                )
            if not check:
                write_whole(path, data, mode, uid, gid)
            continue
        state = os.lstat(path)
        if (state.st_mode & 0o7777, state.st_uid, state.st_gid) != (mode, uid, gid):
            fixed.append(name)
            if not check:
                os.chown(path, uid, gid)
                os.chmod(path, mode)
    compiled = False
    if params["compile"] and not check and os.path.isdir(dest):
        compiled = compile_python(params["compile"], dest, module)
    changed = changed or bool(written or fixed or compiled)
    result = {"changed": changed, "written": written, "fixed": fixed, "compiled": compiled}
    if diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
