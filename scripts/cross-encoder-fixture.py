#!/usr/bin/env python3
"""Tiny BERT cross-encoder fixture for the re-ranker test (development time only; the test reads the output).

No real cross-encoder model package is known on PyPI, so the re-ranker code path is tested on a tiny
BertForSequenceClassification (2 layers, hidden 32, 1 label) with random weights (fixed seed) and a small
WordPiece vocabulary written here, against the scores Hugging Face `transformers` computes for the same pairs.

Usage:  /work/pyref/bin/python scripts/cross-encoder-fixture.py [OUT_DIR]     (default test/fixtures/models/tiny-cross-encoder)
Writes config.json, model.safetensors, vocab.txt, tokenizer_config.json and scores.json (query, passages, max
length, token ids and the logits) into OUT_DIR.
"""
import json
import os
import sys

import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

WORDS = """the a an of to in on for and or is was it be by with as at from this that node mesh gateway route
routes link links packet packets loss restart restarted radio channel key keys rotation incident runbook drain
neighbour metric latency plugin slot fixed failed failure storm power disk full clock skew certificate firmware
upgrade rollback traffic reroute what how why which when fix fixes resolved cause root""".split()
PIECES = ["##s", "##ed", "##ing", "##er", "##ly", "##e", "##a", "##o", "##i", "##n", "##t", "##r"]


def vocabulary() -> list:
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)] + list(".,;:!?'\"()-/")
    cont = ["##" + c for c in [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)]]
    seen, out = set(), []
    for t in special + chars + cont + WORDS + PIECES:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


QUERY = "what fixed the packet loss on the gateway?"
PASSAGES = [
    "Restarting the radio fixed the packet loss on gateway 7.",
    "The clock skew broke certificate validation.",
    "Disk full on node 12; rotated logs.",
    "A firmware rollback resolved the route flapping after the upgrade.",
    "",
    "Packet loss, packet loss, packet loss: the storm took the power and the links. " * 12,
]
MAX_LENGTH = 64


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/models/tiny-cross-encoder"
    os.makedirs(out, exist_ok=True)
    vocab = vocabulary()
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in vocab))
    torch.manual_seed(20261129)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, type_vocab_size=2,
                        initializer_range=0.2, num_labels=1, hidden_act="gelu")
    model = BertForSequenceClassification(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    tok = BertTokenizerFast(os.path.join(out, "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(out)
    enc = tok([QUERY] * len(PASSAGES), PASSAGES, truncation="longest_first", max_length=MAX_LENGTH,
              padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits[:, 0].tolist()
    ids = [[i for i, m in zip(row, mask) if m] for row, mask in zip(enc["input_ids"].tolist(), enc["attention_mask"].tolist())]
    with open(os.path.join(out, "scores.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "scripts/cross-encoder-fixture.py", "query": QUERY, "passages": PASSAGES,
                   "maxLength": MAX_LENGTH, "ids": ids, "logits": logits}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    for extra in ("tokenizer.json", "special_tokens_map.json"):
        p = os.path.join(out, extra)
        if os.path.exists(p):
            os.remove(p)
    print(f"{out}: vocab {len(vocab)}, logits {logits}")


if __name__ == "__main__":
    main()
