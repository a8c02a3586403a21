"""Worker for test_cache: fills, reads and evicts a shared LocalCache; checks every hit."""
import hashlib
import json
import random
import sys

from acqflow.storage.cache import LocalCache


def content(key: str) -> bytes:
    """Deterministic payload of ``key`` (1-24 kB) so any process can check a hit."""
    seed = hashlib.sha256(key.encode()).digest()
    n = 1000 + int.from_bytes(seed[:2], "little") % 23000
    return (seed * (n // 32 + 1))[:n]


def main(cache_dir: str, cap: int, seed: int, rounds: int) -> None:
    cache = LocalCache(cache_dir, max_bytes=cap)
    rnd = random.Random(seed)
    bad = hits = 0
    for _ in range(rounds):
        key = f"k{rnd.randrange(60)}"
        data = cache.get(key)
        if data is None:
            cache.put(key, content(key))
        elif data != content(key):
            bad += 1
        else:
            hits += 1
        if rnd.random() < 0.02:
            cache.discard(f"k{rnd.randrange(60)}")
    print(json.dumps({"bad": bad, "hits": hits, **cache.stats()}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
