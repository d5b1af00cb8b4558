# pip install PyJWT==2.10.1 cryptography
import json, os, sys, time, uuid, urllib.request

import jwt
from jwt.algorithms import OKPAlgorithm

jwk = json.load(open("private.jwk"))
client_id, now = os.environ["KEYGATE_CLIENT_ID"], int(time.time())
token = jwt.encode(
    {"iss": client_id, "sub": client_id, "aud": os.environ["KEYGATE_AUDIENCE"],
     "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex},
    OKPAlgorithm.from_jwk(jwk),
    algorithm="EdDSA",
    headers={"kid": jwk["kid"], "typ": "at+jwt"},
)
request = urllib.request.Request(sys.argv[1], headers={"Authorization": f"Bearer {token}"})
print(urllib.request.urlopen(request).read().decode())
