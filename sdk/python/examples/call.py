"""Calls an API behind the keygate edge with a token from the access key.

    KEYGATE_ACCESS_KEY=kg_sk_live_… KEYGATE_AUDIENCE=https://api.example.com \\
        python examples/call.py https://api.example.com/v1/orders

Prints the response body (exits 1 on a non-2xx answer). Needs `keygate[requests]`.
"""

import os
import sys

import requests

import keygate

provider = keygate.TokenProvider(os.environ["KEYGATE_ACCESS_KEY"], audience=os.environ["KEYGATE_AUDIENCE"])
response = requests.get(sys.argv[1], auth=keygate.RequestsAuth(provider), timeout=30)
print(response.text)
sys.exit(0 if response.ok else 1)
