#!/usr/bin/env bash
# `make test-sdk-python`: the wheel `make build` produced, installed into a
# project-local venv (.keygate/python-test) with the pinned dependencies,
# passes the offline suite (golden vectors, key refusals, provider, ASGI and
# WSGI middleware, Verifier client). The same suite against the real stack,
# from a fresh venv and `pip install ./sdk/python`, is tests/tests/sdk_python.rs.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.keygate/python-test
wheel=$(ls sdk/python/dist/keygate-*.whl)
[ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
"$venv/bin/pip" install -q --disable-pip-version-check -c sdk/python/requirements.lock "${wheel}[requests,httpx]"
cd "${TMPDIR:-/tmp}"  # so that `import keygate` finds the installed wheel, not the source
KEYGATE_VECTORS_DIR="$OLDPWD/shared/tests/vectors" "$OLDPWD/$venv/bin/python" -m unittest discover -s "$OLDPWD/sdk/python/tests"
