"""Same-run reference for bench-embed: sentence-transformers on PyTorch and onnxruntime on this
machine now, on the workload of ../shared/reference/minilm (README there): the passages of
bench_passages.json in batches of 32 sorted by length, and one 9-token query 200 times.

Run by `bench-embed --reference-python PY` (PY: a Python with torch, sentence-transformers,
onnxruntime and onnx, e.g. a venv made by `pip install torch sentence-transformers onnxruntime onnx`).
Usage: reference.py MODEL_DIR PASSAGES_JSON N_PASSAGES THREADS  → one JSON object on stdout.
The ONNX model is exported here the way the reference tools did (legacy exporter, opset 17).
"""
import json, os, statistics, sys, tempfile, time

model_dir, passages_json, n, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["OMP_NUM_THREADS"] = str(threads)
os.environ["TOKENIZERS_PARALLELISM"] = "false"
import numpy as np
import torch
torch.set_num_threads(threads)
from sentence_transformers import SentenceTransformer

passages = json.load(open(passages_json))["passages"][:n]
query = "How do I reset my password?"
out = {"threads": threads, "passages": len(passages), "torch": torch.__version__}


def best_of(fn, runs):
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter(); fn(); walls.append(time.perf_counter() - t0)
    return min(walls)


def latency(fn):
    for _ in range(20): fn()
    ts = []
    for _ in range(200):
        t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)


st = SentenceTransformer(model_dir, device="cpu")
ntok = sum(len(x) for x in st.tokenizer(passages, truncation=True, max_length=256)["input_ids"])
out["tokens"] = ntok
st.encode(passages[:64], batch_size=32, normalize_embeddings=True)
wall = best_of(lambda: st.encode(passages, batch_size=32, normalize_embeddings=True), 2)
out["torch_tok_per_s"] = ntok / wall
out["torch_latency_ms"] = latency(lambda: st.encode([query], batch_size=1, normalize_embeddings=True))

try:
    import onnxruntime as ort
    from tokenizers import Tokenizer
    from transformers import AutoModel

    class Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__(); self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    path = os.path.join(tempfile.mkdtemp(), "model.onnx")
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    names = ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]
    torch.onnx.export(Wrap(AutoModel.from_pretrained(model_dir).eval()), (ids, (ids != 0).long(), torch.zeros_like(ids)), path,
                      dynamo=False, input_names=names[:3], output_names=names[3:],
                      dynamic_axes={k: {0: "batch", 1: "seq"} for k in names}, opset_version=17)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_truncation(256)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")

    def embed(texts, bs=32):
        order = np.argsort([-len(t) for t in texts])
        res = np.empty((len(texts), 384), dtype=np.float32)
        for s in range(0, len(texts), bs):
            idx = order[s:s + bs]
            encs = tok.encode_batch([texts[i] for i in idx])
            i64 = np.array([e.ids for e in encs], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
            h = sess.run(None, {"input_ids": i64, "attention_mask": mask, "token_type_ids": np.zeros_like(i64)})[0]
            m = mask[..., None].astype(np.float32)
            v = (h * m).sum(1) / m.sum(1)
            res[idx] = v / np.linalg.norm(v, axis=1, keepdims=True)
        return res

    ref = st.encode(passages[:8], normalize_embeddings=True)
    out["ort_max_abs_diff_vs_torch"] = float(np.abs(embed(passages[:8]) - ref).max())
    embed(passages[:64])
    out["ort"] = ort.__version__
    out["ort_tok_per_s"] = ntok / best_of(lambda: embed(passages), 2)
    out["ort_latency_ms"] = latency(lambda: embed([query], 1))
except Exception as e:  # onnxruntime is optional: the PyTorch column still stands
    out["ort_error"] = repr(e)[:300]
print(json.dumps(out))
