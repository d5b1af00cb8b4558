#!/usr/bin/env bash
# `make build-sdk-python`: builds the keygate wheel into sdk/python/dist/ with
# pip (setuptools pinned in pyproject.toml), in a project-local virtual
# environment (.keygate/python; nothing is installed globally). Idempotent:
# the wheel is rebuilt from a clean copy of the source on every run, so the
# source tree never collects build leftovers.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.keygate/python
[ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C sdk/python --exclude=build --exclude=dist --exclude='*.egg-info' --exclude=__pycache__ \
  -cf - . | tar -C "$work" -xf -
rm -rf sdk/python/dist
"$venv/bin/pip" wheel -q --disable-pip-version-check --no-deps -w sdk/python/dist "$work"
echo "sdk/python: built $(ls sdk/python/dist)"
