"""Same-run reference for bench-search: numpy matmul + argpartition and faiss IndexFlatIP,
2 threads, one query per call, k = 10, over N random unit vectors (d = 384), as in
../shared/reference/minilm/tools/bench_vec.py. Run by `bench-search --reference-python PY`
(PY: a Python with numpy and, optionally, faiss-cpu).
Usage: reference.py N QUERIES  → one JSON object on stdout (median ms per query)."""
import json, os, statistics, sys, time
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
import numpy as np

N, NQ, D, K = int(sys.argv[1]), int(sys.argv[2]), 384, 10


def unit(rng, n):
    out = np.empty((n, D), dtype=np.float32)
    for s in range(0, n, 100_000):
        x = rng.standard_normal((min(n, s + 100_000) - s, D), dtype=np.float32)
        out[s:s + len(x)] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


X, Q = unit(np.random.default_rng(0), N), unit(np.random.default_rng(1), NQ)


def timed(fn):
    for q in Q[:3]: fn(q)
    ts = []
    for q in Q:
        t0 = time.perf_counter(); fn(q); ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)


def numpy_top(q):
    s = X @ q
    i = np.argpartition(-s, K)[:K]
    return i[np.argsort(-s[i])]


out = {"n": N, "numpy": np.__version__, "numpy_ms": timed(numpy_top)}
try:
    import faiss
    faiss.omp_set_num_threads(2)
    ix = faiss.IndexFlatIP(D); ix.add(X)
    out["faiss"] = faiss.__version__
    out["faiss_flat_ms"] = timed(lambda q: ix.search(q[None, :], K))
except ImportError:
    pass
print(json.dumps(out))
