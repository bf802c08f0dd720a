#!/usr/bin/env python3
"""Token vectors for the policy's token verification, made fresh on every run.

    token-vectors.py OUT_DIR --issuer URL --audience AUD [--skew SECONDS]

Generates two RSA keys in memory (the issuer's, and an attacker's that claims the same key
id), signs real RS256 tokens with them and writes into OUT_DIR:

  jwks.json                  the issuer's public key as a JWKS (what the JWKS URL serves)
  vectors.json               {id: {"id", "input", "want"}}: the input as POSTed under "input"
  token_vectors_test.rego    the same vectors as Rego tests (package soma.authz.v1_token_test),
                             with http.send answering the JWKS and data.sharedinfra.identity
                             set to the given issuer and audience

Nothing here is committed: the private keys never leave this process. Requires PyJWT and
cryptography (.ci/requirements.txt).
"""
import argparse
import base64
import json
import os
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--issuer", required=True)
p.add_argument("--audience", required=True)
p.add_argument("--skew", type=int, default=60)
args = p.parse_args()

KID = "soma-test-key"
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
other = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64uint(n):
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


pub = key.public_key().public_numbers()
jwks = {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "n": b64uint(pub.n), "e": b64uint(pub.e)}]}

now = int(time.time())
base = {
    "iss": args.issuer,
    "aud": args.audience,
    "sub": "alice",
    "iat": now,
    "exp": now + 3600,
    "groups": ["tenant:acme", "role:tenant_member", "scope:memory:read"],
}


def sign(claims, signer=key, alg="RS256", kid=KID, drop=()):
    c = {k: v for k, v in claims.items() if k not in drop}
    return jwt.encode(c, signer, algorithm=alg, headers={"kid": kid})


read_acme = {"resource": {"type": "memory", "tenant": "acme"}, "action": "read"}
allow = {"allow": True, "reasons": [], "route": "standard"}
# An invalid token leaves no subject: every subject check fails with it.
invalid = {"allow": False, "reasons": ["role_denied", "scope_missing", "subject_invalid", "tenant_mismatch", "token_invalid"], "route": "none"}

# A public key's PEM used as an HMAC secret: the classic algorithm confusion.
from cryptography.hazmat.primitives import serialization  # noqa: E402

pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode()).rstrip(b"=")
body = base64.urlsafe_b64encode(json.dumps(base).encode()).rstrip(b"=")
import hashlib, hmac  # noqa: E401,E402

hs = header + b"." + body
hs_token = (hs + b"." + base64.urlsafe_b64encode(hmac.new(pem, hs, hashlib.sha256).digest()).rstrip(b"=")).decode()
none_header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
none_token = (none_header + b"." + body + b".").decode()

vectors = {}


def vec(id, token, want, extra=None, bearer=False):
    inp = dict(read_acme)
    inp["token"] = ("Bearer " + token) if bearer else token
    if extra:
        inp.update(extra)
    vectors[id] = {"id": id, "input": inp, "want": want}


vec("T01 valid token, groups give tenant, role and scope", sign(base), allow)
vec("T02 valid token with a Bearer prefix", sign(base), allow, bearer=True)
vec("T03 claims tenant, roles and scope (space-separated)",
    sign({**base, "groups": [], "tenant": "acme", "roles": ["tenant_viewer"], "scope": "openid memory:read"}), allow)
vec("T04 scp list", sign({**base, "groups": ["tenant:acme", "role:tenant_member"], "scp": ["memory:read"]}), allow)
vec("T05 the token's tenant, not the input's, is checked",
    sign({**base, "groups": ["tenant:globex", "role:tenant_member", "scope:memory:read"]}),
    {"allow": False, "reasons": ["tenant_mismatch"], "route": "none"},
    extra={"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["platform_admin"], "scopes": ["memory:read"]}})
vec("T06 wrong signature (another key, same kid)", sign(base, signer=other), invalid)
vec("T07 wrong issuer", sign({**base, "iss": args.issuer + "/evil"}), invalid)
vec("T08 wrong audience", sign({**base, "aud": "someone-else"}), invalid)
vec("T09 audience list containing ours", sign({**base, "aud": ["other", args.audience]}), allow)
vec("T10 expired beyond the clock skew", sign({**base, "iat": now - 7200, "exp": now - args.skew - 30}), invalid)
vec("T11 expired within the clock skew", sign({**base, "iat": now - 3600, "exp": now - args.skew // 2}), allow)
vec("T12 not yet valid beyond the clock skew", sign({**base, "nbf": now + args.skew + 60}), invalid)
vec("T13 not yet valid within the clock skew", sign({**base, "nbf": now + args.skew // 2}), allow)
vec("T14 exp missing", sign(base, drop=("exp",)), invalid)
vec("T15 sub missing", sign(base, drop=("sub",)), invalid)
vec("T16 tenant missing", sign({**base, "groups": ["role:tenant_member", "scope:memory:read"]}), invalid)
vec("T17 two tenant groups", sign({**base, "groups": ["tenant:acme", "tenant:globex", "role:tenant_member", "scope:memory:read"]}), invalid)
vec("T18 iss missing", sign(base, drop=("iss",)), invalid)
vec("T19 aud missing", sign(base, drop=("aud",)), invalid)
vec("T20 alg none", none_token, invalid)
vec("T21 HS256 with the public key as secret", hs_token, invalid)
vec("T22 not a JWT", "not-a-token", invalid)
vec("T23 empty token", "", invalid)
vec("T24 valid token, no role for the permission",
    sign({**base, "groups": ["tenant:acme", "role:tenant_viewer", "scope:memory:write"]}),
    {"allow": False, "reasons": ["role_denied"], "route": "none"},
    extra={"action": "write"})
vec("T25 a token replaces a valid input subject: an invalid one denies", sign(base, signer=other), invalid,
    extra={"subject": {"kind": "user", "id": "user:alice", "tenant": "acme", "roles": ["tenant_member"], "scopes": ["memory:read"]}})

os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "jwks.json"), "w") as f:
    json.dump(jwks, f)
with open(os.path.join(args.out, "vectors.json"), "w") as f:
    json.dump(vectors, f, indent=1)

identity = {"issuer": args.issuer, "audience": args.audience, "algorithm": "RS256",
            "clock_skew_seconds": args.skew, "jwks_url": "http://jwks.invalid/keys", "jwks_timeout": "5s"}
lines = [
    "# Generated by .ci/token-vectors.py for this run only: real RS256 tokens of a key made in",
    "# the test. http.send answers the JWKS, as the issuer's JWKS URL would.",
    "package soma.authz.v1_token_test",
    "",
    "import future.keywords.if",
    "",
    "import data.soma.authz.v1",
    "",
    f"identity := {json.dumps(identity)}",
    "",
    f"jwks := {json.dumps(json.dumps(jwks))}",
    "",
    "mock_send(req) := {\"status_code\": 200, \"raw_body\": jwks} if req.url == identity.jwks_url",
    "",
    f"vectors := {json.dumps(vectors)}",
    "",
    "passes(id) if {",
    "\tv := vectors[id]",
    "\td := v1.decision with input as v.input with data.sharedinfra.identity as identity with http.send as mock_send",
    "\td == v.want",
    "}",
    "",
    "# The issuer unreachable: every token is invalid (fail closed).",
    "test_jwks_unreachable if {",
    "\tv := vectors[\"T01 valid token, groups give tenant, role and scope\"]",
    "\td := v1.decision with input as v.input with data.sharedinfra.identity as identity with http.send as {\"status_code\": 503, \"raw_body\": \"\"}",
    "\t\"token_invalid\" in d.reasons",
    "}",
    "",
]
lines[4:5] = ["import future.keywords.if", "import future.keywords.in"]
for i, id in enumerate(sorted(vectors)):
    lines += [f"test_{id.split()[0]} if passes({json.dumps(id)})", ""]
with open(os.path.join(args.out, "token_vectors_test.rego"), "w") as f:
    f.write("\n".join(lines))
print(f"{len(vectors)} token vectors, issuer {args.issuer}, audience {args.audience}")
