"""Make the tokenizer golden fixture for Strobe's tests.

Trains a small unigram SentencePiece model on a generated corpus of landscape
captions (T5-like settings: pad=0, eos=1, unk=2, no bos, byte fallback,
nmt_nfkc normalization), then encodes a corpus of test prompts with the Python
`sentencepiece` package and stores, for each prompt, the ids (EOS appended)
and the decoded text.

Usage (from the repository root):

    python3 -m venv .venv && .venv/bin/pip install -e python
    .venv/bin/python -m strobe_tools.make_tokenizer_fixture

It needs only `sentencepiece` (pinned, with the rest, in python/pyproject.toml).

Output: Tests/StrobeTests/Fixtures/tokenizer/{tokenizer.model, cases.json, README.md}
The output is deterministic for a given sentencepiece version.
"""

import argparse
import io
import json
import os
import platform
import random
import sys

import sentencepiece as spm

from strobe_reference.paths import repository_path

SEED = 1234
VOCAB_SIZE = 420
N_TRAIN_CAPTIONS = 4000

# --- Caption grammar (vocabulary of the default model's scenes, docs/architecture.md) ---

TIMES = ["dawn", "morning", "noon", "golden hour", "sunset", "dusk", "night"]
SKIES = ["a clear sky", "clouds", "stars", "the moon", "the sun", "a starry sky", "scattered clouds"]
TERRAINS = ["mountains", "snowy mountains", "snowy peaks", "hills", "rolling hills", "desert dunes",
            "the sea", "a lake", "a forest", "a pine forest", "a city skyline"]
OBJECTS = ["house", "lighthouse", "sailboat", "tree", "hot-air balloon", "flock of birds", "cabin"]
COLOURS = ["red", "blue", "white", "yellow", "green", "orange", "purple", "black"]
POSITIONS = ["on the left", "on the right", "in the centre", "in the center", "at the left",
             "at the right", "in the middle"]
ADJECTIVES = ["beautiful", "quiet", "peaceful", "dramatic", "misty", "calm", "vast", "lonely"]
TEMPLATES = [
    "a {colour} {obj} {pos} at {time}",
    "{terrain} at {time} with {sky}",
    "a {colour} {obj} over {terrain} at {time}",
    "A {adj} {time} over {terrain}",
    "{terrain} at {time} with a {colour} {obj} {pos}",
    "a {obj} {pos}, {terrain} in the background, {sky}",
    "{adj} {terrain} under {sky} at {time}",
    "a {adj} view of {terrain} with a {obj} {pos}",
    "{sky} above {terrain}, a {colour} {obj} {pos}",
    "A {adj} {colour} {obj} near {terrain} at {time}",
]


def caption(rng: random.Random) -> str:
    text = rng.choice(TEMPLATES).format(
        colour=rng.choice(COLOURS), obj=rng.choice(OBJECTS), pos=rng.choice(POSITIONS),
        time=rng.choice(TIMES), terrain=rng.choice(TERRAINS), sky=rng.choice(SKIES),
        adj=rng.choice(ADJECTIVES))
    if rng.random() < 0.3:
        text = text[0].upper() + text[1:]
    if rng.random() < 0.2:
        text += "."
    return text


# --- Test prompts -------------------------------------------------------------

HANDWRITTEN = [
    "",
    " ",
    "   ",
    "\t",
    "\n",
    "a lighthouse on the left at golden hour",
    "snowy mountains at dusk with a lake",
    "a red hot-air balloon over desert dunes at night",
    "A beautiful sunset over mountains",
    "snowy peaks at dusk with a lake",
    "  leading spaces",
    "trailing spaces   ",
    "   both ends   ",
    "multiple   inner    spaces",
    "tab\tseparated\twords",
    "line\nbreaks\nhere",
    "windows\r\nline endings\r\n",
    "\t\n mixed \t whitespace \n\t",
    "non\u00a0breaking\u00a0space",
    "em\u2003space and thin\u2009space",
    "zero\u200bwidth\u200bspace",
    "ideographic\u3000space",
    "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e",
    "cafe\u0301 (combining acute)",
    "na\u00efve fa\u00e7ade r\u00e9sum\u00e9",
    "\u00c5ngstr\u00f6m \u00d8resund \u00c6r\u00f8",
    "Stra\u00dfe in M\u00fcnchen",
    "\u0141\u00f3d\u017a, Pozna\u0144, Gda\u0144sk",
    "\u0130stanbul \u0131\u015f\u0131k",
    "\u00bfD\u00f3nde est\u00e1 el faro? \u00a1Aqu\u00ed!",
    "\u65e5\u6ca1\u306e\u5c71\u3068\u6e56",  # Japanese
    "\u706f\u5854\u5728\u5de6\u8fb9\uff0c\u9ec4\u660f\u65f6\u5206",  # Chinese
    "\ub4f1\ub300\uac00 \uc67c\ucabd\uc5d0 \uc788\ub2e4",  # Korean
    "\u30ab\u30bf\u30ab\u30ca \uff76\uff80\uff76\uff85 (half-width)",
    "\uff21\uff22\uff23\uff11\uff12\uff13 full-width",
    "\u05de\u05d2\u05d3\u05dc\u05d5\u05e8 \u05e2\u05dc \u05d4\u05d7\u05d5\u05e3",  # Hebrew
    "\u0645\u0646\u0627\u0631\u0629 \u0639\u0644\u0649 \u0627\u0644\u064a\u0633\u0627\u0631 \u0639\u0646\u062f \u0627\u0644\u063a\u0631\u0648\u0628",  # Arabic
    "mixed \u05e2\u05d1\u05e8\u05d9\u05ea and English",
    "\u202eright-to-left override\u202c",
    "\u041c\u0430\u044f\u043a \u0441\u043b\u0435\u0432\u0430 \u043d\u0430 \u0437\u0430\u043a\u0430\u0442\u0435",  # Russian
    "\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 \u03b8\u03ac\u03bb\u03b1\u03c3\u03c3\u03b1",  # Greek
    "\u0926\u0940\u092a\u0938\u094d\u0924\u0902\u092d \u0938\u0942\u0930\u094d\u092f\u093e\u0938\u094d\u0924",  # Hindi
    "\u0e1b\u0e23\u0e30\u0e20\u0e32\u0e04\u0e32\u0e23",  # Thai
    "\U0001f305 sunrise \U0001f304",
    "\U0001f3d4\ufe0f\u2744\ufe0f snowy \U0001f30c",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 family emoji (ZWJ)",
    "\U0001f1eb\U0001f1f7 \U0001f1ef\U0001f1f5 flags",
    "\U0001f44d\U0001f3fd skin tone",
    "\u2764\ufe0f\U0001f525\U0001f4af",
    "\U0001d54a\U0001d560\U0001d55f\U0001d55f\U0001d56a math letters",
    "\ufb01re \ufb02ow ligatures",
    "\u2460\u2461\u2462 circled \u00bd \u2153 fractions",
    "x\u00b2 + y\u00b3 superscripts",
    "\u2122 \u00a9 \u00ae symbols",
    "\u2026 ellipsis \u2014 dash \u2013 en dash",
    "\u201csmart quotes\u201d and \u2018single\u2019",
    "ALL CAPS LIGHTHOUSE AT NIGHT",
    "MiXeD CaSe SaIlBoAt",
    "numbers 0123456789 and 3.14159",
    "punctuation !@#$%^&*()_+-=[]{}|;':\",./<>?",
    "back\\slash and /forward/ slash",
    "hot-air-balloon-with-many-hyphens",
    "under_score_separated_words",
    "https://example.com/path?query=1&x=2",
    "email@example.com",
    "<html><body>tags</body></html>",
    "a\u0000nul character",
    "control\u0001\u0002\u0007chars",
    "\u00ad soft hyphen",
    "\ufeffbyte order mark",
    "lighthouselighthouselighthouselighthouse",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "\u2581 lower one eighth block (SentencePiece's space symbol)",
    "<unk> <pad> </s> literal control names",
    "\U00010348 Gothic hwair, \U0001f600 grinning",
    "\U000e0041 tag character",
    "\U0010fffd private use plane 16",
]

EMOJI = ["\U0001f305", "\U0001f30b", "\U0001f3dd\ufe0f", "\u26f5", "\U0001f388", "\U0001f319",
         "\u2b50", "\U0001f332", "\U0001f426", "\U0001f3e0", "\u2600\ufe0f", "\u2601\ufe0f"]
FOREIGN = ["\u706f\u5854", "\u5c71", "\u6e56", "\u6d77", "\u591c", "\u9ec4\u660f",
           "\u0645\u0646\u0627\u0631\u0629", "\u05d9\u05dd", "\u00e9t\u00e9", "\u00f1and\u00fa",
           "\u017e\u00e1ba", "M\u00fcnchen", "\u041c\u0430\u044f\u043a", "\u0e17\u0e30\u0e40\u0e25",
           "\uc0b0", "\u30e8\u30c3\u30c8"]
SPACES = [" ", "  ", "\t", "\n", " \t ", "\u00a0", "\u3000", "\r\n"]


def perturbed(rng: random.Random, text: str) -> str:
    """Mixes a caption with Unicode, emoji and odd whitespace."""
    words = text.split(" ")
    out = []
    for w in words:
        r = rng.random()
        if r < 0.10:
            w = rng.choice(EMOJI) + w
        elif r < 0.20:
            w = rng.choice(FOREIGN)
        elif r < 0.25:
            w = w.upper()
        out.append(w)
        out.append(rng.choice(SPACES) if rng.random() < 0.2 else " ")
    text = "".join(out[:-1])
    if rng.random() < 0.3:
        text = rng.choice(SPACES) + text
    if rng.random() < 0.3:
        text = text + rng.choice(SPACES)
    return text


def long_text(rng: random.Random, sp: spm.SentencePieceProcessor, target_tokens: int,
              mix: bool) -> str:
    parts = []
    while len(sp.encode(" ".join(parts))) < target_tokens:
        c = caption(rng)
        parts.append(perturbed(rng, c) if mix else c + ".")
    return " ".join(parts)


def test_prompts(rng: random.Random, sp: spm.SentencePieceProcessor) -> list:
    prompts = list(HANDWRITTEN)
    prompts += [caption(rng) for _ in range(60)]
    prompts += [perturbed(rng, caption(rng)) for _ in range(80)]
    prompts += [long_text(rng, sp, 1000, mix=i % 2 == 1) for i in range(4)]
    return prompts


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    out_dir = repository_path("Tests", "StrobeTests", "Fixtures", "tokenizer",
                              needed_by="strobe_tools.make_tokenizer_fixture (writes Tests/StrobeTests/Fixtures/tokenizer/)")
    rng = random.Random(SEED)
    os.makedirs(out_dir, exist_ok=True)
    captions = [caption(rng) for _ in range(N_TRAIN_CAPTIONS)]
    # Trained from an iterator into memory, so no temporary paths end up in the model.
    writer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(captions), model_writer=writer, model_type="unigram",
        vocab_size=VOCAB_SIZE, character_coverage=1.0, byte_fallback=True,
        normalization_rule_name="nmt_nfkc", pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        num_threads=1, minloglevel=2)
    model_bytes = writer.getvalue()
    model_path = os.path.join(out_dir, "tokenizer.model")
    with open(model_path, "wb") as f:
        f.write(model_bytes)

    sp = spm.SentencePieceProcessor(model_file=model_path)
    prompts = test_prompts(rng, sp)
    cases = []
    for text in prompts:
        ids = sp.encode(text) + [sp.eos_id()]
        cases.append({"text": text, "ids": ids, "decoded": sp.decode(ids)})
    # Arbitrary id sequences (byte pieces that may form invalid UTF-8, control ids) for decode.
    decode_cases = []
    for _ in range(40):
        ids = [rng.randrange(sp.get_piece_size()) if rng.random() < 0.5 else rng.randrange(3, 259)
               for _ in range(rng.randint(0, 24))]
        decode_cases.append({"ids": ids, "decoded": sp.decode(ids)})
    fixture = {
        "note": "cases: ids = encode(text) + [eos_id], decoded = decode(ids); "
                "decode_cases: decoded = decode(ids) for arbitrary ids",
        "sentencepiece_version": spm.__version__,
        "python_version": platform.python_version(),
        "vocab_size": sp.get_piece_size(),
        "pad_id": sp.pad_id(), "eos_id": sp.eos_id(), "unk_id": sp.unk_id(), "bos_id": sp.bos_id(),
        "cases": cases,
        "decode_cases": decode_cases,
    }
    with open(os.path.join(out_dir, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=True, indent=None, separators=(",", ":"))
        f.write("\n")
    lengths = [len(c["ids"]) for c in cases]
    print(f"sentencepiece {spm.__version__}, python {platform.python_version()}: "
          f"{len(cases)} cases, max {max(lengths)} ids, model {len(model_bytes)} bytes",
          file=sys.stderr)


if __name__ == "__main__":
    main()
