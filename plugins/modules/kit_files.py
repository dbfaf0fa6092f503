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
  - With O(check_scripts), checks every file as a CGI program before anything is
    written. Each must be a regular file, not empty, at most O(max_size) bytes, and
    either a compiled program for this host's machine (ELF) or a script whose first
    line is a shebang without a CR (Windows line endings) naming an interpreter
    installed on the host (through C(/usr/bin/env) too, looked up in O(search_path)).
    Python scripts must compile under that interpreter, and the modules a file's
    C(needs) lists must import there. One fault fails the task, naming every faulty
    file, with nothing on the host changed.
  - With O(manifest), records the names it deployed in that file; a name recorded
    there that O(files) no longer holds is removed from O(dest) (with its byte code).
    Files it never deployed are never touched.
  - The action plugin of the same name reads the files on the controller; use it,
    not this module, in a task.
options:
  dest:
    description: The directory on the host.
    type: path
    required: true
  files:
    description:
      - The files, each a dict with C(name) (a plain file name) and C(content) (base64),
        and optionally C(needs), the Python modules the file imports that O(check_scripts)
        must find on the host.
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
  check_scripts:
    description: Check every file as a CGI program before any change (see above).
    type: bool
    default: false
  max_size:
    description: The largest file O(check_scripts) accepts, in bytes.
    type: int
    default: 10485760
  search_path:
    description: Where O(check_scripts) looks for an interpreter named through C(/usr/bin/env).
    type: str
    default: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  source:
    description: The files' folder on the controller, named in the messages of O(check_scripts).
    type: str
    default: ""
  manifest:
    description: A file (root's, outside every web path) that records what was deployed to O(dest).
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
removed:
  description: The names of the files once deployed, now gone from O(files), removed (or to be).
  type: list
  elements: str
  returned: always
"""

import base64
import grp
import hashlib
import json
import os
import pwd
import re
import stat
import subprocess
import tempfile

from ansible.module_utils.basic import AnsibleModule

MAX_DIFF = 65536
ELF_MAGIC = b"\x7fELF"
PYTHON = re.compile(r"^python[0-9.]*$")
# Run by each Python interpreter the scripts name, on the host: compile every
# script given on stdin (py_compile's check, without writing byte code) and try
# the modules it needs; print the faults as JSON.
PYTHON_CHECK = r"""
import base64, importlib.util, json, sys
faults = {}
for job in json.load(sys.stdin):
    try:
        compile(base64.b64decode(job["content"]), job["name"], "exec", dont_inherit=True)
    except SyntaxError as error:
        where = "line %s: " % error.lineno if error.lineno else ""
        faults[job["name"]] = where + str(error.msg)
        continue
    except ValueError as error:
        faults[job["name"]] = str(error)
        continue
    missing = [name for name in job["needs"] if importlib.util.find_spec(name) is None]
    if missing:
        faults[job["name"]] = "imports " + ", ".join(missing) + ", which this Python lacks"
print(json.dumps({"version": sys.version.split()[0], "faults": faults}))
"""


def text_or_none(data: bytes) -> str | None:
    """The content as text for a diff, or None for a binary or large file."""
    if len(data) > MAX_DIFF or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def diff_text(data: bytes | None) -> str:
    """What a diff shows of a file's content: nothing for a file that is not there,
    its text, or a line saying what it is where it has no text to show (so that
    adding or removing a binary or empty file still shows in the diff)."""
    if data is None:
        return ""
    text = text_or_none(data)
    if text:
        return text
    if not data:
        return "(empty file)\n"
    digest = hashlib.sha256(data).hexdigest()[:16]
    return f"(binary or large file, {len(data)} bytes, sha256 {digest}...)\n"


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


def host_machine() -> bytes:
    """The ELF machine field (2 bytes) of this host's own programs."""
    with open("/bin/sh", "rb") as handle:
        return handle.read(20)[18:20]


def shebang_interpreter(first_line: bytes, search_path: str) -> tuple[str, str]:
    """The interpreter a shebang line names, found on the host: (path, fault); the
    path is empty where the fault says why."""
    words = first_line[2:].decode("utf-8", "replace").split()
    if not words:
        return "", "its shebang line names no interpreter"
    program = words[0]
    if not program.startswith("/"):
        return "", f"its shebang names {program!r}, not an absolute path"
    if os.path.basename(program) == "env":
        names = [word for word in words[1:] if not word.startswith("-") and "=" not in word]
        if not names:
            return "", f"its shebang runs {program} without a program to run"
        for folder in search_path.split(":"):
            candidate = os.path.join(folder, names[0])
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate, ""
        return "", f"its interpreter {names[0]!r} (through {program}) is not installed on the host"
    if not (os.path.isfile(program) and os.access(program, os.X_OK)):
        return "", f"its interpreter {program} is not installed on the host"
    return program, ""


def script_fault(data: bytes, max_size: int, machine: bytes, search_path: str) -> tuple[str, str]:
    """One file checked as a CGI program: (interpreter, fault); an empty fault where it
    can run, an empty interpreter for a compiled program."""
    if not data:
        return "", "it is empty"
    if len(data) > max_size:
        return "", f"it is {len(data)} bytes, more than the {max_size} allowed"
    if data.startswith(ELF_MAGIC):
        if data[18:20] != machine:
            return "", "it is a compiled program for another kind of machine than this host"
        return "", ""
    if not data.startswith(b"#!"):
        return "", (
            "it has no shebang line (#!) and is not a compiled program: "
            "start it with one such as #!/usr/bin/python3"
        )
    first_line = data.split(b"\n", 1)[0]
    if b"\r" in first_line:
        return "", (
            "its shebang line ends in a CR (Windows line endings): "
            "save it with Unix (LF) line endings"
        )
    return shebang_interpreter(first_line, search_path)


def python_faults(interpreter: str, jobs: list[dict], module: AnsibleModule) -> dict[str, str]:
    """Compile the scripts with their interpreter on the host; their faults by name."""
    result = subprocess.run(
        [interpreter, "-I", "-c", PYTHON_CHECK],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        module.fail_json(
            msg=f"{interpreter} could not check the Python scripts", stderr=result.stderr
        )
    version = report["version"]
    return {
        name: f"{fault} (Python {version}, {interpreter})"
        for name, fault in report["faults"].items()
    }


def check_scripts(files: list[dict], datas: list[bytes], module: AnsibleModule) -> None:
    """Fail the task, naming every faulty file, if any can't run as a CGI program."""
    params = module.params
    machine = host_machine()
    faults: dict[str, str] = {}
    python_jobs: dict[str, list[dict]] = {}
    for item, data in zip(files, datas):
        interpreter, fault = script_fault(data, params["max_size"], machine, params["search_path"])
        if fault:
            faults[item["name"]] = fault
        elif interpreter and PYTHON.match(os.path.basename(os.path.realpath(interpreter))):
            job = {"name": item["name"], "content": item["content"]}
            job["needs"] = list(item.get("needs") or [])
            python_jobs.setdefault(interpreter, []).append(job)
    for interpreter, jobs in python_jobs.items():
        faults.update(python_faults(interpreter, jobs, module))
    if faults:
        where = params["source"] or params["dest"]
        lines = [f"{os.path.join(where, name)}: {faults[name]}" for name in sorted(faults)]
        module.fail_json(
            msg=f"{len(faults)} of the scripts can't run as CGI programs; nothing on the host "
            "was changed. " + "; ".join(lines),
            faults=faults,
        )


def read_manifest(path: str, dest: str, module: AnsibleModule) -> list[str]:
    """The names the last run deployed to dest, as the manifest records them."""
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except FileNotFoundError:
        return []
    except ValueError:
        module.fail_json(msg=f"{path} is not a manifest this module wrote: remove it to start over")
    if record.get("dest") != dest:
        module.warn(f"{path} recorded files in {record.get('dest')}, not {dest}: none removed")
        return []
    return [
        name for name in record.get("files", []) if "/" not in name and name not in ("", ".", "..")
    ]


def update_manifest(path: str, dest: str, names: list[str], check: bool) -> bool:
    """Record the names deployed to dest (root's file, written whole); whether the
    record changed."""
    record = (json.dumps({"dest": dest, "files": sorted(names)}, indent=1) + "\n").encode()
    try:
        with open(path, "rb") as handle:
            if handle.read() == record:
                return False
    except FileNotFoundError:
        pass
    if not check:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        write_whole(path, record, 0o644, 0, 0)
    return True


def remove_stale(dest: str, names: list[str], check: bool, module: AnsibleModule) -> list[dict]:
    """Remove the files once deployed and no longer given (their byte code too); the
    diffs that show it."""
    diffs = []
    for name in names:
        path = os.path.join(dest, name)
        if os.path.isdir(path) and not os.path.islink(path):
            module.warn(f"{path} was deployed as a file and is now a directory: left alone")
            continue
        if not os.path.lexists(path):
            continue
        before = read(path, module)
        diffs.append(
            {
                "before_header": path,
                "after_header": "/dev/null",
                "before": diff_text(before),
                "after": "",
            }
        )
        if not check:
            os.unlink(path)
            stem = os.path.splitext(name)[0]
            cache = os.path.join(dest, "__pycache__")
            if name.endswith(".py") and os.path.isdir(cache):
                for cached in os.listdir(cache):
                    if cached.startswith(stem + ".") and cached.endswith(".pyc"):
                        os.unlink(os.path.join(cache, cached))
    return diffs


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
            "check_scripts": {"type": "bool", "default": False},
            "max_size": {"type": "int", "default": 10485760},
            "search_path": {
                "type": "str",
                "default": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            },
            "source": {"type": "str", "default": ""},
            "manifest": {"type": "path"},
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
    files = params["files"]
    for item in files:
        if "/" in item["name"] or item["name"] in ("", ".", ".."):
            module.fail_json(msg=f"not a plain file name: {item['name']!r}")
    datas = [base64.b64decode(item["content"]) for item in files]
    if params["check_scripts"]:
        check_scripts(files, datas, module)
    names = [item["name"] for item in files]
    stale = []
    if params["manifest"]:
        stale = [
            name for name in read_manifest(params["manifest"], dest, module) if name not in names
        ]
    changed = ensure_directory(dest, directory_mode, uid, gid, check, module)
    written, fixed, diffs = [], [], []
    for name, data in zip(names, datas):
        path = os.path.join(dest, name)
        before = read(path, module)
        if before != data:
            written.append(name)
            if module._diff:
                diffs.append(
                    {
                        "before_header": path if before is not None else "/dev/null",
                        "after_header": path,
                        "before": diff_text(before),
                        "after": diff_text(data),
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
    removals = remove_stale(dest, stale, check, module)
    removed = [os.path.basename(diff["before_header"]) for diff in removals]
    if module._diff:
        diffs.extend(removals)
    recorded = bool(params["manifest"]) and update_manifest(params["manifest"], dest, names, check)
    compiled = False
    if params["compile"] and not check and os.path.isdir(dest):
        compiled = compile_python(params["compile"], dest, module)
    changed = changed or bool(written or fixed or removed or recorded or compiled)
    result = {
        "changed": changed,
        "written": written,
        "fixed": fixed,
        "removed": removed,
        "compiled": compiled,
    }
    if diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
