# Once, on the control plane's host: a key that may only call POST /v1/verify
keygate admin-key create --scope verify --out verify-key

# A service not behind the edge asks the same decision the edge makes
curl -sS "$KEYGATE_URL/v1/verify" -H "Authorization: Bearer $(cat verify-key)" \
  -H "Content-Type: application/json" \
  -d "{\"credential\": \"$KEYGATE_ACCESS_KEY\", \"method\": \"GET\", \"path\": \"/v1/hello\"}"
