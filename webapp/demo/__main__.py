"""``python -m webapp.demo [--scale N] [--seed S] [--replace] [--url URL]``: load the demo."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from webapp.config import database_url

from .load import DemoError, load_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webapp.demo", description=__doc__)
    parser.add_argument("--scale", type=int, default=1, help="subdistricts to generate")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--replace", action="store_true", help="empty the map tables first")
    parser.add_argument("--url", default=None, help="database URL (default: DATABASE_URL)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    url = args.url or database_url()
    if not url:
        print("no database: set DATABASE_URL or start the local cluster", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        counts = load_demo(
            url, scale=args.scale, seed=args.seed, progress=not args.quiet, replace=args.replace
        )
    except DemoError as err:
        print(err, file=sys.stderr)
        return 1
    for table, count in counts.items():
        print(f"{table:20} {count:>10,}")
    print(f"loaded in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
