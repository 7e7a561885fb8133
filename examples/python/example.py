"""Creates, verifies, lists (every page), revokes and handles typed errors, printing what it sees.

Run against a server:  BILLINGOS_SECRET_KEY=sk_test_... python3 examples/python/example.py
(BILLINGOS_URL defaults to http://localhost:4000).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from billingos import BillingOS, BillingOSError  # noqa: E402


def main():
    billing = BillingOS(os.environ["BILLINGOS_SECRET_KEY"], os.environ.get("BILLINGOS_URL", "http://localhost:4000"))
    user = os.environ.get("EXAMPLE_USER_ID", "python_user_1")

    created = [
        billing.create_session_token(user, email=None, expiresIn=900, metadata={"client": "python", "n": n})
        for n in range(3)
    ]
    for token in created:
        print(f"created {token['tokenId']} expires {token['expiresAt']} prefix {token['sessionToken'][:17]}")

    verified = billing.verify_session_token(created[0]["sessionToken"])
    print(f"verified valid={verified['valid']} user={verified['customer']['externalUserId']} metadata={verified['metadata']}")

    listed = [token["tokenId"] for token in billing.iter_session_tokens(user, limit=2)]
    print(f"listed {len(listed)} tokens over pages of 2: {' '.join(listed)}")

    revoked = billing.revoke_session_token(created[1]["tokenId"])
    print(f"revoked {revoked['tokenId']} at {revoked['revokedAt']}")
    after = billing.verify_session_token(created[1]["sessionToken"])
    print(f"verified after revoke valid={after['valid']} reason={after['reason']}")

    active = [token["tokenId"] for token in billing.iter_session_tokens(user, status="active")]
    print(f"active {len(active)}")

    try:
        billing.create_session_token(user, expiresIn=5)
    except BillingOSError as error:
        print(f"error {error.code} {error.http_status} fields={sorted(error.field_errors)} message={error.message}")

    try:
        billing.revoke_session_token("tok_00000000000000000000000000")
    except BillingOSError as error:
        print(f"error {error.code} {error.http_status} message={error.message}")

    try:
        BillingOS("sk_test_not_a_key", billing.base_url).list_session_tokens(user)
    except BillingOSError as error:
        print(f"error {error.code} {error.http_status}")


if __name__ == "__main__":
    main()
