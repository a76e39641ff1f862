"""Times the seed's Python in process, for bench/compare.sh: decrypt and
parse (load_vault), flatten (inject_env's _flatten, without the
os.environ.update), and serialize and encrypt (create_vault without the
file), on the benchmark vaults. Prints one JSON object per line: op, size,
median_ms, runs."""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cryptography.fernet import Fernet  # noqa: E402

from seed_helper import CredentialManager, seed_flatten  # noqa: E402


def measure(fn):
    fn()  # warm up
    times = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < 1.0:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, len(times)


def main():
    directory = sys.argv[1]
    key = os.environ["MASTER_KEY"].encode()
    fernet = Fernet(key)
    for size in ("seed", "1k", "100k", "compact100k"):
        path = os.path.join(directory, size + ".enc")
        with open(path, "rb") as f:
            token = f.read()
        manager = CredentialManager(path, key)
        secrets = manager.load_vault()

        ops = {
            "open": lambda: json.loads(fernet.decrypt(token)),
            "flatten": lambda: seed_flatten(secrets, "APP_"),
            "seal": lambda: fernet.encrypt(json.dumps(secrets).encode()),
        }
        for op, fn in ops.items():
            median, runs = measure(fn)
            print(json.dumps({"op": op, "size": size, "median_ms": median, "runs": runs}))


if __name__ == "__main__":
    main()
