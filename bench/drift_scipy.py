"""scipy's side of `npm run bench:drift`: the same drift tests on exactly the columns bench/drift.ts
wrote, computed the way Evidently calls scipy, timed per test (best of the repeats) from the
in-memory numpy arrays, and printed as JSON with the process's peak RSS before and after.
Run by bench/drift.ts with Debian's /usr/bin/python3 (python3-scipy, python3-numpy)."""
import json
import resource
import sys
import time

import numpy as np
from scipy import stats
from scipy.spatial import distance

folder = sys.argv[1]
meta = json.load(open(f"{folder}/meta.json"))
repeats = meta["repeats"]


def load(column, side):
    path = f"{folder}/{column['name']}.{side}"
    if column["kind"] == "numeric":
        return np.fromfile(path, dtype=np.float64)
    # Fixed-width ASCII codes, as numpy holds short strings: the same values Steward gets as strings.
    return np.fromfile(path, dtype=f"S{column['width']}")


def ks(ref, cur):
    res = stats.ks_2samp(ref, cur)
    return {"statistic": float(res.statistic), "score": float(res.pvalue)}


def wasserstein(ref, cur):
    # Evidently: wasserstein_distance / max(std(reference), 0.001).
    d = stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
    return {"statistic": float(d), "score": float(d)}


def shares_numeric(ref, cur):
    # Evidently's get_binned_data for a numeric column with more than 20 distinct values.
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    return np.histogram(ref, edges)[0] / len(ref), np.histogram(cur, edges)[0] / len(cur)


def counts_categorical(ref, cur):
    ref_keys, ref_counts = np.unique(ref, return_counts=True)
    cur_keys, cur_counts = np.unique(cur, return_counts=True)
    keys = np.union1d(ref_keys, cur_keys)
    r = np.zeros(len(keys))
    c = np.zeros(len(keys))
    r[np.searchsorted(keys, ref_keys)] = ref_counts
    c[np.searchsorted(keys, cur_keys)] = cur_counts
    return r, c


def jensenshannon(ref, cur, kind):
    if kind == "numeric":
        r, c = shares_numeric(ref, cur)
    else:
        r, c = counts_categorical(ref, cur)
        r, c = r / r.sum(), c / c.sum()
    d = distance.jensenshannon(r, c, base=2)
    return {"statistic": float(d), "score": float(d)}


def chisquare(ref, cur):
    r, c = counts_categorical(ref, cur)
    with np.errstate(divide="ignore", invalid="ignore"):
        res = stats.chisquare(c, r / r.sum() * c.sum())
    return {"statistic": float(res.statistic), "score": float(res.pvalue)}


TESTS = {
    "ks": lambda ref, cur, kind: ks(ref, cur),
    "wasserstein": lambda ref, cur, kind: wasserstein(ref, cur),
    "jensenshannon": jensenshannon,
    "chisquare": lambda ref, cur, kind: chisquare(ref, cur),
}

data = {c["name"]: (load(c, "ref"), load(c, "cur")) for c in meta["columns"]}
rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
results = []
for column in meta["columns"]:
    ref, cur = data[column["name"]]
    for test in column["tests"]:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            value = TESTS[test](ref, cur, column["kind"])
            best = min(best, time.perf_counter() - start)
        results.append({"column": column["name"], "test": test, "seconds": best, **value})
rss_done = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def spelled(x):
    """JSON has no Infinity/NaN; spell them so bench/drift.ts can restore them."""
    if isinstance(x, float) and not np.isfinite(x):
        return "NaN" if np.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    return x


results = [{k: spelled(v) for k, v in r.items()} for r in results]
print(json.dumps({"results": results, "rssLoadedKb": rss_loaded, "rssPeakKb": rss_done}))
