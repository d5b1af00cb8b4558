# A static key, as a Bearer token and as the Basic-auth username (empty password)
curl -sS -H "Authorization: Bearer $KEYGATE_ACCESS_KEY" "$KEYGATE_EDGE/v1/hello"
curl -sS -u "$KEYGATE_ACCESS_KEY:" "$KEYGATE_EDGE/v1/hello"

# A signed token (EdDSA JWT, 5 minutes): offline, the key carries its client id
TOKEN=$(keygate token mint --key - --aud "$KEYGATE_EDGE" <<< "$KEYGATE_ACCESS_KEY")
curl -sS -H "Authorization: Bearer $TOKEN" "$KEYGATE_EDGE/v1/hello"
