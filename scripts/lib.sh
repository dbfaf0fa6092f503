# Shared set-up for scripts/provision and scripts/test (sourced, not run).
# Works on a fresh Debian 12 or 13 where only bash and python3 are given.

PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV_DIR=${KIT_VENV:-$PROJECT_DIR/.venv}

say() { printf '\n==> %s\n' "$*"; }

# Run as root: installing packages and provisioning this machine need it.
require_root() {
  if [[ $EUID -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      exec sudo --preserve-env=DEBIAN_MIRROR,KIT_VENV,CI,ANSIBLE_STRATEGY "$0" "$@"
    fi
    echo "$(basename "$0"): run as root (or install sudo)" >&2
    exit 1
  fi
}

# Install the Debian packages that are missing, in one apt run.
apt_install() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  say "Installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A virtualenv with the pinned requirements; reinstalled only when they change.
ensure_venv() {
  local requirements=$PROJECT_DIR/$1 stamp digest
  python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
  [[ -x $VENV_DIR/bin/python ]] || python3 -m venv "$VENV_DIR"
  digest=$(cat "$PROJECT_DIR"/requirements*.txt | sha256sum | cut -d' ' -f1)
  stamp=$VENV_DIR/.installed-$(basename "$requirements")
  if [[ ! -f $stamp || $(cat "$stamp") != "$digest" ]]; then
    say "Installing Python packages from $(basename "$requirements") into $VENV_DIR"
    "$VENV_DIR/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    echo "$digest" > "$stamp"
  fi
  export PATH=$VENV_DIR/bin:$PATH
}

# Where Mitogen's strategy plugins are, so that ANSIBLE_STRATEGY=mitogen_linear
# works (opt-in; Ansible's own linear strategy stays the default).
use_mitogen_plugins() {
  ANSIBLE_STRATEGY_PLUGINS=$("$VENV_DIR/bin/python" -c \
    'import ansible_mitogen.plugins.strategy as s, os; print(os.path.dirname(s.__file__))')
  export ANSIBLE_STRATEGY_PLUGINS
}

# Podman's defaults work on most machines; hosts with a hybrid cgroup layout
# or low hard limits need the project's settings (runc, lower ulimits).
# Call after scripts/build-images: it tries the Debian 12 test image.
use_podman_settings() {
  if ! podman run --rm localhost/cgikit-debian:12 true >/dev/null 2>&1; then
    export CONTAINERS_CONF=$PROJECT_DIR/molecule/containers.conf
    echo "podman: using $CONTAINERS_CONF"
    podman run --rm localhost/cgikit-debian:12 true
  fi
}

# The machine's own interpreter for Python VERSION (3.9, say), never a
# virtualenv's: /usr/bin, /usr/local/bin, then pyenv's versions.  Prints its
# path; fails when there is none that runs.
system_python() {
  local version=$1 candidate
  for candidate in /usr/bin/python"$version" /usr/local/bin/python"$version" \
    "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version"; do
    if [[ -x $candidate ]] && "$candidate" -c pass 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# ansible-test bootstraps pip in its virtualenvs with a get-pip.py it downloads
# from a host of its own; where that host can't be reached, it uses a cached
# copy.  Put scripts/get_pip_offline.py there, which installs pip from the
# interpreter's ensurepip and the machine's own pip configuration instead.
use_offline_get_pip() {
  local version cache
  version=$("$VENV_DIR/bin/python" - <<'PYTHON'
import re
from pathlib import Path

import ansible_test

source = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", source.read_text()).group(1))
PYTHON
)
  cache=$HOME/.ansible/test/cache/get_pip_${version//./_}.py
  mkdir -p "$(dirname "$cache")"
  cp "$PROJECT_DIR/scripts/get_pip_offline.py" "$cache"
}
