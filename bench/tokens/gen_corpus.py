#!/usr/bin/env python3
"""Writes a varied corpus of strings for the tokenizer, one JSON string a
line: English prose (with contractions and capitals), source code, CJK,
Arabic with diacritics, Devanagari and Thai (combining marks), emoji with
ZWJ sequences, skin tones, flags and keycaps, long whitespace runs, long
digit runs, long letter runs, and mixed scripts. Deterministic for a seed.

Characters on which tiktoken's Rust regex and JavaScript's differ (U+0085,
U+FEFF as whitespace; the long s after an apostrophe) and characters newer
than Unicode 13 are left out, so that js-tiktoken, tiktoken and PCRE2 agree
on what the text is.

Usage: gen_corpus.py COUNT [SEED] > corpus.jsonl
"""
import json
import random
import sys

WORDS = ("the of and to in is was for on that with as by it at from his "
         "her they we you are be this have not or but which one all were "
         "there been has their more when will would who so no if out up "
         "about into than them can only other new some could time these "
         "two may then do first any my now such like our over man me even "
         "most made after also did many before must through back years "
         "where much your way well down should because each just those "
         "people Mr how too little state good very make world still own "
         "see men work long get here between both life being under never "
         "day same another know while last might us great old year off "
         "come since against go came right used take three tokenization "
         "internationalization supercalifragilistic OpenAI GPT JSONL HTTP "
         "batch request response counting numbers").split()
CONTRACTIONS = ["don't", "it's", "WE'LL", "they'Re", "I'm", "you've",
                "she'd", "can't", "O'Neil", "'s", "rock'n'roll", "ISN'T"]
PUNCT = [".", ",", ";", ":", "!", "?", " -", " --", "...", " (", ")", "\"",
         "'", " /", "&", "%", " $", "#", "@", "*", "[", "]", "{", "}"]
CODE = [
    "int main(int argc, char **argv) {\n    return 0;\n}\n",
    "def f(x):\n\tif x > 10:\n\t\treturn x ** 2\n\treturn None\n",
    "const xs = [1, 2, 3].map((v) => v * 2); // doubled\n",
    "for (size_t i = 0; i < n; i++) {\n        sum += a[i] * b[i];\n    }",
    "SELECT id, name FROM users WHERE created_at >= '2024-01-01';\n",
    "<div class=\"row\"><span id=\"x\">&amp;&lt;</span></div>\r\n",
    "    # comment with trailing spaces    \n\n\n    pass\n",
    "fn main() { println!(\"{:?}\", vec![0u8; 16]); }",
    "{\"custom_id\": \"req-1\", \"body\": {\"max_tokens\": 256}}",
    "x=1;y=2;z=x+y*3/4-5%6^7|8&9<<10>>11",
]
EMOJI = ["\U0001F600", "\U0001F44D\U0001F3FD", "\U0001F468\u200D\U0001F469"
         "\u200D\U0001F467\u200D\U0001F466", "\U0001F9D1\u200D\U0001F91D"
         "\u200D\U0001F9D1", "\U0001F1EB\U0001F1F7", "\U0001F1EF\U0001F1F5",
         "1\uFE0F\u20E3", "\u2764\uFE0F", "\U0001F3F3\uFE0F\u200D\U0001F308",
         "\U0001F469\U0001F3FF\u200D\U0001F4BB", "\U0001F525", "\u2728"]
WS = [" ", "  ", "\t", "\n", "\r\n", "\n\n", "\u00A0", "\u3000", "\u2003",
      "\u2028", " \n ", "\t\t\n"]


def rand_chars(r, lo, hi, n):
    return "".join(chr(r.randint(lo, hi)) for _ in range(n))


def prose(r):
    out = []
    for _ in range(r.randint(3, 60)):
        w = r.choice(WORDS if r.random() > 0.1 else CONTRACTIONS)
        if r.random() < 0.1:
            w = w.upper()
        elif r.random() < 0.15:
            w = w.capitalize()
        out.append(w)
        if r.random() < 0.15:
            out.append(r.choice(PUNCT))
    return " ".join(out)


def cjk(r):
    parts = []
    for _ in range(r.randint(1, 6)):
        kind = r.randint(0, 3)
        n = r.randint(1, 30)
        if kind == 0:
            parts.append(rand_chars(r, 0x4E00, 0x9FA5, n))
        elif kind == 1:
            parts.append(rand_chars(r, 0x3041, 0x3093, n))
        elif kind == 2:
            parts.append(rand_chars(r, 0x30A1, 0x30F3, n))
        else:
            parts.append(rand_chars(r, 0xAC00, 0xD7A3, n))
        parts.append(r.choice(["\u3002", "\u3001", " ", "\uFF01", "", "\n"]))
    return "".join(parts)


def arabic(r):
    words = []
    for _ in range(r.randint(2, 25)):
        w = ""
        for _ in range(r.randint(2, 8)):
            w += chr(r.randint(0x0621, 0x064A))
            if r.random() < 0.3:
                w += chr(r.randint(0x064B, 0x0652))  # diacritics (marks)
        words.append(w)
    return " ".join(words) + r.choice(["", ".", "\u061F", " 123"])


def indic_thai(r):
    if r.random() < 0.5:
        return " ".join(rand_chars(r, 0x0915, 0x0939, r.randint(1, 5)) +
                        "\u093F\u094D" for _ in range(r.randint(1, 12)))
    return rand_chars(r, 0x0E01, 0x0E2E, r.randint(3, 40)) + "\u0E31\u0E48"


def emoji(r):
    return "".join(r.choice(EMOJI) + r.choice(["", " ", "", "!"])
                   for _ in range(r.randint(1, 12)))


def whitespace(r):
    return (r.choice(["", "word", "x"]) +
            "".join(r.choice(WS) * r.randint(1, 40) for _ in range(r.randint(1, 5))) +
            r.choice(["", "end", "\n", "  "]))


def digits(r):
    n = r.randint(1, 60)
    s = "".join(r.choice("0123456789") for _ in range(n))
    return r.choice(["", "$", "v", "+", " "]) + s + r.choice(
        ["", ".5", ",000", "%", " km", "\u0663\u0664\u0665", "\u00B2"])


def long_letters(r):
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyzXYZ") for _ in range(
        r.randint(129, 1500)))


def mixed(r):
    gens = [prose, cjk, arabic, indic_thai, emoji, digits]
    return "".join(r.choice(gens)(r)[:r.randint(5, 80)] + r.choice(
        ["", " ", "\n", "-", "\u0416\u0435\u043B\u0442\u044B\u0439",
         "\u03B1\u03B2\u03B3 ", "\u01C5", "\u02B0", "e\u0301"])
        for _ in range(r.randint(2, 6)))


KINDS = [prose, prose, lambda r: r.choice(CODE) * r.randint(1, 3), cjk,
         arabic, indic_thai, emoji, whitespace, digits, mixed, mixed,
         long_letters]


def main():
    count = int(sys.argv[1])
    r = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    out = sys.stdout
    for i in range(count):
        kind = KINDS[i % len(KINDS)] if i < len(KINDS) else r.choice(KINDS)
        out.write(json.dumps(kind(r), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
