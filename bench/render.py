"""How long rendering a model's markdown answer takes, against ``html.escape``.

The chat page re-renders the whole growing answer on every streamed chunk, so
the figure that matters is the time per render of a typical ~4 KB answer
(prose, a list, a table, two highlighted code blocks), and what a whole
streamed answer costs when it is re-rendered at every chunk. The baseline is
``html.escape`` of the same text in the same run: the cheapest safe thing a
server could do (no markdown at all). Absolute numbers vary by machine; the
ratio is what to compare.

    .venv/bin/python bench/render.py [--repeat 200] [--chunk 24]
"""

from __future__ import annotations

import argparse
import html
import statistics
import time
from collections.abc import Callable

from chatgrid.chat import render
from chatgrid.chat.render import render_markdown

SECTION = """\
## Reading a CSV file

You can read the file with the standard library. The `csv` module handles
quoting, so **do not** split lines on commas yourself; see
[the docs](https://docs.python.org/3/library/csv.html) for the dialects.

1. Open the file with `newline=""`.
2. Wrap it in a `csv.DictReader`.
3. Convert each field you need.

```python
import csv
from decimal import Decimal


def total(path: str) -> Decimal:
    with open(path, newline="") as handle:
        rows = csv.DictReader(handle)
        return sum((Decimal(row["amount"]) for row in rows), Decimal(0))
```

| column | type | example |
|:-------|:----:|--------:|
| date | ISO 8601 | 2026-11-26 |
| amount | decimal | 12.50 |
| note | text | ~~lunch~~ dinner |

```sql
SELECT date, SUM(amount) FROM expenses GROUP BY date ORDER BY date;
```

> Tip: the numbers stay exact with `Decimal`; floats would round.

"""


def _answer(size: int) -> str:
    return (SECTION * (size // len(SECTION) + 1))[:size]


def _per_call(func: Callable[[str], str], text: str, repeat: int) -> float:
    """Median seconds of one call over ``repeat`` timed batches of one call each."""
    func(text)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(text)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _stream(text: str, chunk: int) -> tuple[int, float]:
    """Re-render every prefix a stream of ``chunk``-character deltas would show."""
    render._code_block.cache_clear()
    ends = [*range(chunk, len(text), chunk), len(text)]
    start = time.perf_counter()
    for end in ends:
        render_markdown(text[:end])
    return len(ends), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed renders per size")
    parser.add_argument("--chunk", type=int, default=24, help="characters per streamed delta")
    args = parser.parse_args(argv)

    print(f"{'answer':>8} {'render':>10} {'uncached':>10} {'escape':>9} {'× escape':>9}")
    for size in (1_000, 4_000, 16_000, 64_000):
        text = _answer(size)
        warm = _per_call(render_markdown, text, args.repeat)

        def cold(value: str) -> str:
            render._code_block.cache_clear()
            return render_markdown(value)

        uncached = _per_call(cold, text, args.repeat)
        baseline = _per_call(html.escape, text, args.repeat)
        print(
            f"{size / 1000:>6.0f}KB {warm * 1e3:>8.3f}ms {uncached * 1e3:>8.3f}ms "
            f"{baseline * 1e6:>7.1f}µs {warm / baseline:>8.0f}×"
        )

    text = _answer(4_000)
    renders, seconds = _stream(text, args.chunk)
    print(
        f"\nstreaming a 4 KB answer in {args.chunk}-character deltas: {renders} renders, "
        f"{seconds * 1e3:.1f} ms in all, {seconds / renders * 1e3:.3f} ms per chunk"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
