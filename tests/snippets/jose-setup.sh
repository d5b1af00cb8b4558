# The key's private JWK (as secret as the key) and its client id (iss, sub)
keygate key jwk --private - <<< "$KEYGATE_ACCESS_KEY" > private.jwk
export KEYGATE_CLIENT_ID=$(keygate key inspect --json - <<< "$KEYGATE_ACCESS_KEY" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["client_id"])')
