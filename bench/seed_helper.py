"""The seed blog post's pipeline helper, re-typed faithfully for comparison.

CredentialManager is the post's class, unchanged in behaviour: load_vault
decrypts and parses the whole vault, get_credential walks a dot path,
inject_env flattens into os.environ with the post's naming. The command line
is what bench/compare.sh times:

    MASTER_KEY=... python3 seed_helper.py get VAULT PATH    # prints one value
    MASTER_KEY=... python3 seed_helper.py env VAULT         # prints the variables as JSON

The key comes from MASTER_KEY, as in the post's __main__.
"""
import json
import os
import sys

from cryptography.fernet import Fernet


class CredentialManager:
    def __init__(self, vault_path: str, key: bytes):
        self.fernet = Fernet(key)
        self.vault_path = vault_path
        self._credentials = None

    def load_vault(self) -> dict:
        """Decrypt and load the credential vault"""
        with open(self.vault_path, "rb") as f:
            encrypted_data = f.read()
        try:
            decrypted_data = self.fernet.decrypt(encrypted_data)
            self._credentials = json.loads(decrypted_data)
        except Exception as e:
            print(f"Failed to decrypt vault: {e}", file=sys.stderr)
            sys.exit(1)
        return self._credentials

    def get_credential(self, path: str) -> str:
        if not self._credentials:
            self.load_vault()
        parts = path.split(".")
        current = self._credentials
        for part in parts:
            if isinstance(current, dict) and part in current:
                current = current[part]
            else:
                raise KeyError(f"Credential path '{path}' not found")
        return current

    def inject_env(self, prefix: str = "SECRET_"):
        if not self._credentials:
            self.load_vault()

        def _flatten(obj, parent_key=""):
            items = []
            for k, v in obj.items():
                new_key = f"{parent_key}_{k}".upper() if parent_key else k.upper()
                if isinstance(v, dict):
                    items.extend(_flatten(v, new_key).items())
                else:
                    items.append((f"{prefix}{new_key}", str(v)))
            return dict(items)

        env_vars = _flatten(self._credentials)
        os.environ.update(env_vars)
        return env_vars


def seed_flatten(obj, prefix, parent_key=""):
    """inject_env's _flatten, lifted out so that it can be timed without
    os.environ.update."""
    items = []
    for k, v in obj.items():
        new_key = f"{parent_key}_{k}".upper() if parent_key else k.upper()
        if isinstance(v, dict):
            items.extend(seed_flatten(v, prefix, new_key).items())
        else:
            items.append((f"{prefix}{new_key}", str(v)))
    return dict(items)


if __name__ == "__main__":
    key = os.environ.get("MASTER_KEY")
    if not key:
        print("MASTER_KEY environment variable not set", file=sys.stderr)
        sys.exit(1)
    mode, vault = sys.argv[1], sys.argv[2]
    manager = CredentialManager(vault, key.encode())
    if mode == "get":
        print(manager.get_credential(sys.argv[3]))
    else:
        print(json.dumps(manager.inject_env("APP_")))
