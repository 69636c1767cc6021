#!/usr/bin/env python3
"""Validate bench/kbqa/dev.jsonl (or a held-out file in the same format) against Knowledge/.

Usage: python3 bench/kbqa/check.py [FILE.jsonl] [--kb KNOWLEDGE_DIR]
Prints a summary; exits 1 and lists every problem when the file breaks a rule.
Stdlib only. The normalisation here is the scorer's: lowercase, no whitespace, no thousands
separators; checks that compare against a source document also ignore markdown '*' and '`'.
"""
import csv
import io
import json
import os
import re
import sys
from collections import Counter

KEYS = ["id", "lang", "question", "covered", "restricted", "facts", "wrong", "source", "note"]
TAGS = {"plain", "paraphrase", "table-row", "two-fact", "condition", "research", "cross-lang",
        "uncovered-close", "restricted"}
ROW_SEP = " › "
MIN_TOTAL = 160
SHARES = {"covered": (0.65, 0.75), "uncovered": (0.20, 0.30)}  # of all questions
RESTRICTED_COUNT = (8, 12)

_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\d[\d.:\-]*\d|\d")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def norm(s):
    """The scorer's comparison form: lowercase, whitespace and thousands separators removed."""
    return _THOUSANDS.sub("", _SPACE.sub("", s.replace("\u3000", " ").lower()))


def norm_doc(s):
    return norm(s.replace("*", "").replace("`", ""))


def core(form):
    """The value a CSV cell would hold: the longest number in the form, else the whole form."""
    nums = _NUMBER.findall(norm(form))
    return max(nums, key=len) if nums else norm(form)


def doc_lang(text):
    """'zh', 'en' or 'both' (bilingual files such as about.md and the business tables)."""
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
    share = cjk / max(1, cjk + latin / 4)  # ~4 latin letters per word vs 1 hanzi per word
    return "zh" if share > 0.85 else "en" if share < 0.15 else "both"


class Source:
    """One source reference: a file, and for CSV files optionally one row."""

    def __init__(self, kb, ref):
        self.ref = ref
        path, _, self.row_key = ref.partition(ROW_SEP)
        self.path = path.strip()
        self.full = os.path.join(kb, self.path)
        self.error = None
        self.text = self.row_text = None
        if not os.path.isfile(self.full):
            self.error = f"source file {self.path!r} does not exist under {kb}"
            return
        with open(self.full, encoding="utf-8") as f:
            self.text = f.read()
        self.is_csv = self.path.endswith(".csv")
        if self.is_csv:  # cells joined so that a comma between cells never reads as a thousands separator
            self.text = "\n".join(" | ".join(r) for r in csv.reader(io.StringIO(self.text)))
        if self.row_key and not self.is_csv:
            self.error = f"a row ({self.row_key!r}) can only be named for a .csv source"
        elif self.row_key:
            rows = [line.split(" | ") for line in self.text.split("\n")][1:]
            hits = [r for r in rows if r and (r[0] == self.row_key or any(
                f"{r[0]} ({c})" == self.row_key for c in r[1:]))]
            if len(hits) != 1:
                self.error = (f"row {self.row_key!r} matches {len(hits)} rows of {self.path}; "
                              "name it by its first cell, or 'first cell (other cell)' when the first cell repeats")
            else:
                self.row_text = " | ".join(hits[0])

    def holds(self, form):
        if self.is_csv:
            hay = norm_doc(self.row_text if self.row_text is not None else self.text)
            return core(form) in hay or norm(form) in hay
        return norm(form) in norm_doc(self.text)

    def collides(self, wrong):
        """True when the wrong form occurs in the source only as part of a longer number, so a
        correct answer quoting that longer number would be scored wrong."""
        w, hay = norm(wrong), norm_doc(self.text)
        start = hay.find(w)
        while start >= 0:
            before = hay[start - 1] if start else ""
            after = hay[start + len(w)] if start + len(w) < len(hay) else ""
            if (w[0].isdigit() and (before.isdigit() or before == ".")) or \
               (w[-1].isdigit() and (after.isdigit() or (after == "." and hay[start + len(w) + 1:start + len(w) + 2].isdigit()))):
                return True
            start = hay.find(w, start + 1)
        return False


def check(path, kb):
    errors, items = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"line {n}: empty line")
                continue
            try:
                obj = json.loads(line, object_pairs_hook=lambda pairs: pairs)
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: not JSON ({e})")
                continue
            keys = [k for k, _ in obj]
            if keys != KEYS:
                errors.append(f"line {n}: keys are {keys}, expected exactly {KEYS} in that order")
                continue
            items.append((n, dict(obj)))

    ids = Counter(it["id"] for _, it in items)
    questions = Counter(norm(it["question"]) for _, it in items if isinstance(it["question"], str))
    sources = {}
    tags_seen = Counter()
    for n, it in items:
        where = f"line {n} ({it.get('id')})"
        def bad(msg):
            errors.append(f"{where}: {msg}")

        # types and shapes
        if not isinstance(it["id"], str) or not re.fullmatch(r"kb-(en|zh)-\d{3}", it["id"]):
            bad("id must look like kb-en-001 / kb-zh-001")
        elif ids[it["id"]] > 1:
            bad("duplicate id")
        if it["lang"] not in ("en", "zh"):
            bad("lang must be 'en' or 'zh'")
        elif isinstance(it["id"], str) and not it["id"].startswith(f"kb-{it['lang']}-"):
            bad("id prefix does not match lang")
        if not isinstance(it["question"], str) or not it["question"].strip():
            bad("question must be a non-empty string")
            continue
        if questions[norm(it["question"])] > 1:
            bad("duplicate question")
        if not isinstance(it["covered"], bool) or not isinstance(it["restricted"], bool):
            bad("covered and restricted must be booleans")
            continue
        facts, wrong_groups = it["facts"], it["wrong"]
        # The format: "wrong": [[surface forms of one wrong value], ...]
        if not isinstance(wrong_groups, list) or not all(isinstance(g, list) and g for g in wrong_groups):
            bad("wrong must be a list of lists of surface forms"); wrong_groups = []
        wrong = [s for g in wrong_groups for s in g]
        if not isinstance(facts, list) or not all(
                isinstance(fa, list) and fa and all(isinstance(s, str) and s.strip() for s in fa) for fa in facts):
            bad("facts must be a list of non-empty lists of non-empty strings")
            continue
        if not isinstance(wrong, list) or not all(isinstance(s, str) and s.strip() for s in wrong):
            bad("wrong must be a list of non-empty strings")
            continue
        if not isinstance(it["source"], str) or not isinstance(it["note"], str) or not it["note"].strip():
            bad("source must be a string and note a non-empty string")
            continue

        # covered / restricted / uncovered rules
        if it["restricted"] and not it["covered"]:
            bad("restricted questions must be covered")
        if it["covered"]:
            if not facts:
                bad("covered question without facts")
            if not it["source"]:
                bad("covered question without source")
        else:
            if facts:
                bad("uncovered question must have facts == []")
            if it["source"]:
                bad("uncovered question must have source == ''")
        src_path = it["source"].partition(ROW_SEP)[0].strip()
        if it["covered"] and it["restricted"] != src_path.startswith("internal/"):
            bad("restricted questions (and only they) must cite a source under internal/")

        # surface forms
        q = norm(it["question"])
        rights = [norm(s) for fa in facts for s in fa]
        for s in [s for fa in facts for s in fa] + wrong:
            ns = norm(s)
            if len(ns) < 2 or (ns.isdigit() and len(ns) < 3):
                bad(f"form {s!r} is too short: it would match answers by accident")
        for fa in facts:
            if any(norm(s) in q for s in fa):
                bad(f"fact {fa} is already in the question: an answer that repeats the question passes")
        for w in wrong:
            nw = norm(w)
            if any(nw in r for r in rights):
                bad(f"wrong form {w!r} is a substring of a right form: a correct answer would be scored wrong")
            if nw in q:
                bad(f"wrong form {w!r} is in the question: an answer that repeats the question is scored wrong")

        # note tags
        head, sep, text = it["note"].partition(":")
        tags = set(head.strip().split("+")) if sep else set()
        if not sep or not text.strip() or not tags or not tags <= TAGS:
            bad(f"note must read 'tag+tag: text' with tags from {sorted(TAGS)}")
            continue
        tags_seen.update(tags)
        expect = {
            "two-fact": len(facts) >= 2,
            "table-row": src_path.endswith(".csv"),
            "research": src_path.startswith("research/"),
            "restricted": it["restricted"],
            "uncovered-close": not it["covered"],
        }
        for tag, want in expect.items():
            if (tag in tags) != want:
                bad(f"tag {tag!r} {'missing' if want else 'present'} (it must match the item's "
                    f"{'facts' if tag == 'two-fact' else 'source' if tag in ('table-row', 'research') else 'flags'})")

        # the source really holds each fact; wrong forms do not hide inside longer numbers there
        if it["covered"] and it["source"]:
            src = sources.get(it["source"]) or sources.setdefault(it["source"], Source(kb, it["source"]))
            if src.error:
                bad(src.error)
                continue
            for fa in facts:
                if not any(src.holds(s) for s in fa):
                    bad(f"no form of fact {fa} occurs in {it['source']}")
            for w in wrong:
                if src.collides(w):
                    bad(f"wrong form {w!r} occurs in {src.path} inside a longer number")
            lang = doc_lang(src.text)
            if ("cross-lang" in tags) != (lang not in ("both", it["lang"])):
                bad(f"tag 'cross-lang' must be set exactly when the source is monolingual "
                    f"in the other language (source reads as {lang!r})")

    # totals and shares
    total = len(items)
    by_lang = Counter(it["lang"] for _, it in items)
    restricted = sum(it["restricted"] is True for _, it in items)
    covered_public = sum(it["covered"] is True and it["restricted"] is False for _, it in items)
    uncovered = sum(it["covered"] is False for _, it in items)
    if total < MIN_TOTAL:
        errors.append(f"only {total} questions; at least {MIN_TOTAL} are needed")
    if by_lang["en"] != by_lang["zh"]:
        errors.append(f"languages unbalanced: {dict(by_lang)}; write as many zh as en questions")
    for name, count in (("covered", covered_public), ("uncovered", uncovered)):
        lo, hi = SHARES[name]
        if total and not lo <= count / total <= hi:
            errors.append(f"{name} share {count / total:.0%} is outside {lo:.0%}-{hi:.0%}")
    if not RESTRICTED_COUNT[0] <= restricted <= RESTRICTED_COUNT[1]:
        errors.append(f"{restricted} restricted questions; write {RESTRICTED_COUNT[0]}-{RESTRICTED_COUNT[1]}")

    per_lang = {lg: Counter() for lg in ("en", "zh")}
    for _, it in items:
        if it["lang"] in per_lang:
            k = "restricted" if it["restricted"] else "covered" if it["covered"] else "uncovered"
            per_lang[it["lang"]][k] += 1
    pct = (lambda c: f"{c} ({c / total:.0%})") if total else str
    print(f"{path}: {total} questions, en {by_lang['en']}, zh {by_lang['zh']}")
    print(f"  covered (public) {pct(covered_public)}, uncovered {pct(uncovered)}, restricted {pct(restricted)}")
    for lg, c in per_lang.items():
        print(f"  {lg}: covered {c['covered']}, uncovered {c['uncovered']}, restricted {c['restricted']}")
    print("  tags: " + ", ".join(f"{t} {tags_seen[t]}" for t in sorted(TAGS)))
    if errors:
        print(f"FAIL: {len(errors)} problem(s)")
        for e in errors:
            print("  " + e)
        return 1
    print("OK")
    return 0


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    path, kb = os.path.join(here, "dev.jsonl"), os.path.join(root, "Knowledge")
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--kb" and args:
            kb = args.pop(0)
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        elif not a.startswith("-"):
            path = a
        else:
            print(f"unknown option {a!r}; usage: check.py [FILE.jsonl] [--kb KNOWLEDGE_DIR]")
            return 2
    if not os.path.isfile(path):
        print(f"{path} does not exist; pass the .jsonl file to check")
        return 2
    return check(path, kb)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
